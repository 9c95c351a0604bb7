"""The ``--history`` syntax: the actions before a decision, as people write them.

No-limit Hold'em (``holdem``, ``holdem_fixed_board``)::

    r2.5 c / k b3 r9 c / k k / b0.75p

* ``f`` fold, ``k`` (or ``x``) check, ``c`` call, ``a`` all-in;
* ``b<N>`` / ``r<N>``: bet or raise *to* N big blinds on the current street (what the player
  has put in on this street after the action; preflop the blinds count, so ``r2.5`` is the
  usual 2.5 bb open). ``bb`` may follow the number: ``r2.5bb``;
* ``b<F>p`` / ``r<F>p``: bet or raise by F times the pot after calling, the way the tree's
  bet menu is written (``b0.5p`` = half-pot bet, ``r1p`` = pot-size raise);
* ``/`` between streets; optional (the tree knows where a street ends), checked when given.

``b`` and ``r`` are the same action. Spaces and commas between actions are optional. These
are the same letters as the tree's own histories (``Game.histories``: ``r250c/kr300``), which
write raise amounts as chips put in over the whole hand instead (1 bb = 100 chips).

Kuhn and Leduc use their own letters (Kuhn ``p``/``b``, Leduc ``f``/``c``/``r``, e.g.
``rc/r``, the keys of ``strategy export``); ``k``/``x`` (check) and ``b`` (bet) are also read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from holdemd.errors import UsageError

HISTORY_HELP = (
    "actions before the decision, e.g. 'r2.5 c / k b3': f fold, k or x check, c call, "
    "a all-in, b<N>/r<N> bet or raise to N big blinds on this street (preflop blinds "
    "included), b<F>p/r<F>p bet or raise F times the pot (e.g. b0.5p), / between streets "
    "(optional); Kuhn p/b and Leduc f/c/r as in exported keys (e.g. 'rc/r'); off-tree sizes "
    "are translated to the tree sizes around them (pseudo-harmonic; the more likely shown) "
    "(default: the first decision, or --seat's after folds)"
)

SYNTAX_HINT = (
    "write actions like 'r2.5 c / k b0.5p' (f, k, c, a, b<bb>, r<bb>, b<pot>p, / between streets)"
)

_SKIP = frozenset(" \t\r\n,")
_TOKEN = re.compile(r"(/)|([a-z])(?:(\d+(?:\.\d+)?|\.\d+)(bb|p)?)?", re.IGNORECASE)


@dataclass(frozen=True)
class Token:
    """One action (or a street separator) as typed."""

    text: str  # as the user wrote it
    letter: str  # lower-case action letter, or "/" between streets
    amount: float | None = None  # the number after b/r, if any
    pot: bool = False  # the amount is a pot fraction ("p"), else big blinds

    @property
    def is_street_break(self) -> bool:
        return self.letter == "/"


def parse_history(text: str) -> list[Token]:
    """The tokens of a ``--history`` text; raises `UsageError` on characters it cannot read."""
    tokens: list[Token] = []
    i = 0
    while i < len(text):
        if text[i] in _SKIP:
            i += 1
            continue
        match = _TOKEN.match(text, i)
        if match is None:
            raise UsageError(
                f"--history {text!r}: cannot read {text[i:]!r} (position {i + 1}); {SYNTAX_HINT}"
            )
        slash, letter, number, unit = match.groups()
        if slash:
            tokens.append(Token(text="/", letter="/"))
        else:
            amount = float(number) if number is not None else None
            tokens.append(
                Token(
                    text=match.group(0),
                    letter=letter.lower(),
                    amount=amount,
                    pot=(unit or "").lower() == "p",
                )
            )
        i = match.end()
    return tokens


def format_history(streets: tuple[tuple[str, ...], ...], compact: bool) -> str:
    """Canonical text of per-street action tokens: ``"r2.5 c / k b3"`` or compact ``"rc/r"``.

    Streets after the last action are kept as empty (a trailing ``/``), so the text says which
    street the decision is on.
    """
    if compact:
        return "/".join("".join(street) for street in streets)
    return " / ".join(" ".join(street) for street in streets).strip()


def format_bb(value: float) -> str:
    """A big-blind amount with at most two decimals and no trailing zeros: 2.5, 3, 0.25."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text
