"""Looking up what a trained blueprint does: one decision (``strategy show``) or a chart of
every hand at one decision (``strategy chart``).

Built on :mod:`holdemd.blueprint` (seats, the history syntax, the tree walk, cards to buckets).
Modules: ``blueprint`` (a snapshot's average strategy, row by row), ``show`` and ``chart`` (what
the commands print), ``chart_png`` (drawing the chart) and ``png`` (a dependency-free PNG writer).
"""
