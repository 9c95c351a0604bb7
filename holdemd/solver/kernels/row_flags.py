"""A flag per table row, one bit each, with a summary byte per 4,096 rows.

What a multi-host run's head keeps per extra host: the rows whose current value that host's
replica lacks (``hosts.stale_rows``). A bool per row would cost 1.5 GB per host on
6max_pluribus (1.48G rows); bits cost 185 MB, and pages never flagged are never written, so
they take no memory. The summary byte of a group of 64 words says that some bit in it may be
set: taking flagged rows scans only those groups, so it costs what is flagged, not the table.
A summary byte set over a group that is empty again is harmless (the next take clears it).
"""

from __future__ import annotations

import numpy as np

from holdemd.jit import inline_kernel, kernel

WORD_BITS = 64
GROUP_WORDS = 64  # words per summary byte: 4,096 rows


@inline_kernel
def _popcount(x):
    """Set bits of a uint64."""
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return int((x * np.uint64(0x0101010101010101)) >> np.uint64(56))


@kernel
def flag_rows(words, summary, rows):
    """Flag ``rows``.

    Parameters
    ----------
    words : uint64[ceil(R / 64)], in/out
        Bit ``r % 64`` of word ``r // 64`` is row r's flag.
    summary : uint8[ceil(len(words) / 64)], in/out
        Set for the group of every word written.
    rows : int32 or int64[k]
        Rows, repeats allowed.

    Returns
    -------
    int
        How many flags were not set before.
    """
    new = 0
    for i in range(rows.shape[0]):
        row = np.int64(rows[i])
        w = row >> 6
        bit = np.uint64(1) << np.uint64(row & 63)
        if (words[w] & bit) == 0:
            words[w] |= bit
            summary[w >> 6] = 1
            new += 1
    return new


@kernel
def flag_range(words, summary, lo, hi):
    """Flag rows ``lo`` to ``hi - 1``; returns how many were not set before.

    Parameters
    ----------
    words, summary : see `flag_rows`, in/out
    lo, hi : int
    """
    new = 0
    row = lo
    while row < hi:
        w = row >> 6
        first = row & 63
        last = min(hi - (w << 6), 64)  # bits first..last-1 of this word
        if first == 0 and last == 64:
            mask = ~np.uint64(0)
        else:
            mask = ((np.uint64(1) << np.uint64(last - first)) - np.uint64(1)) << np.uint64(first)
        new += _popcount(mask & ~words[w])
        words[w] |= mask
        summary[w >> 6] = 1
        row = (w + 1) << 6
    return new


@kernel
def flag_allocated(words, summary, at, decision_nodes, row_base, num_buckets, lo, hi):
    """Flag the rows in ``lo:hi`` of every node with a block in a lazily allocated table.

    Parameters
    ----------
    words, summary : see `flag_rows`, in/out
    at : int64[nodes]
        The table's block offsets (-1: no block).
    decision_nodes, row_base, num_buckets : int64[D], int64[D], int32[D]
        ``NodeBlocks``: each decision node, its first row and its rows.
    lo, hi : int
        The row range changed.

    Returns
    -------
    int
        How many flags were not set before.
    """
    new = 0
    for d in range(decision_nodes.shape[0]):
        if at[decision_nodes[d]] < 0:
            continue
        start = max(row_base[d], lo)
        end = min(row_base[d] + num_buckets[d], hi)
        if start < end:
            new += flag_range(words, summary, start, end)
    return new


@kernel
def take_flagged(words, summary, start_word, limit, out):
    """Unflag up to ``limit`` flagged rows, from word ``start_word`` on, wrapping around (so
    rows flagged again and again cannot keep the others waiting forever).

    Parameters
    ----------
    words, summary : see `flag_rows`, in/out
    start_word : int
        Where to start: the previous take's end.
    limit : int
    out : int64[>= limit], out
        The rows taken, ascending from ``start_word`` to the end, then from the start.

    Returns
    -------
    (int, int)
        Rows taken; the word to start the next take at.
    """
    num_words = words.shape[0]
    taken = 0
    w = start_word
    scanned = 0
    while scanned < num_words:
        group = w >> 6
        if summary[group] == 0:  # nothing flagged in this group: skip to the next
            skip = min((group + 1) << 6, num_words) - w
            w += skip
            scanned += skip
        else:
            word = words[w]
            while word != 0 and taken < limit:
                low = word & (~word + np.uint64(1))  # the lowest set bit
                out[taken] = (w << 6) + _popcount(low - np.uint64(1))
                taken += 1
                word ^= low
            words[w] = word
            if taken >= limit:
                return taken, w if word != 0 else (w + 1) % num_words
            w += 1
            scanned += 1
            if (w & 63) == 0 or w == num_words:  # the group's last word: is it empty now?
                empty = True
                for v in range(group << 6, w):
                    if words[v] != 0:
                        empty = False
                        break
                if empty:
                    summary[group] = 0
        if w >= num_words:
            w = 0
    return taken, w


@kernel
def flagged(words, rows, out):
    """Whether each of ``rows`` is flagged.

    Parameters
    ----------
    words : see `flag_rows`
    rows : int32 or int64[k]
    out : bool[k], out
    """
    for i in range(rows.shape[0]):
        row = np.int64(rows[i])
        out[i] = (words[row >> 6] >> np.uint64(row & 63)) & np.uint64(1) != 0


@kernel
def unflag_rows(words, rows):
    """Clear the flags of ``rows`` (repeats allowed); returns how many were set.

    Parameters
    ----------
    words : see `flag_rows`, in/out
    rows : int32 or int64[k]
    """
    cleared = 0
    for i in range(rows.shape[0]):
        row = np.int64(rows[i])
        w = row >> 6
        bit = np.uint64(1) << np.uint64(row & 63)
        if (words[w] & bit) != 0:
            words[w] &= ~bit
            cleared += 1
    return cleared
