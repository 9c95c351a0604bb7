"""Looking up what a trained blueprint does: one decision (``strategy show``) or a chart of
every hand at one decision (``strategy chart``).

Modules, one job each: ``seats`` (seat names), ``history`` (the ``--history`` syntax),
``tree`` (a node's actions with their tokens and labels), ``walk`` (following a history down
the tree, mapping off-tree sizes), ``hands`` (cards to buckets), ``blueprint`` (a snapshot's
average strategy, row by row), ``show`` and ``chart`` (what the commands print), ``chart_png``
(drawing the chart) and ``png`` (a dependency-free PNG writer).
"""
