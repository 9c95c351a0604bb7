"""Measuring strategy quality on games too big for an exact best response.

* ``policies``: a strategy as kernels read it (a snapshot's strategy sums, or a baseline bot:
  ``random``, ``call``, ``raise``), normalized row by row inside the kernels.
* ``match``: head-to-head play with duplicate deals; ``stats``: the estimate and its interval
  over duplicate deals; ``equity``: equity over the board cards still to come.
* ``lbr`` (kernels in ``lbr_kernel``): local best response (Lisý & Bowling 2017), a lower bound
  on the exploitability of a heads-up Hold'em blueprint.
* ``command``: what ``holdemd eval --vs`` and ``holdemd eval --lbr`` run and print;
  ``periodic``: a short evaluation for a training run's quality curve in TensorBoard.
* ``curve``: ``holdemd eval --curve``, every kept snapshot measured alike; ``curve_png`` draws
  it as a PNG line chart.
* ``litmus``: sanity scenarios (aces never fold first in, ...) judged on a blueprint, for
  ``holdemd eval --litmus`` and at every snapshot of a training run.
"""
