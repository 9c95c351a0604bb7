"""The blueprint: what training produces, as a product people and programs use.

Modules, one job each: ``seats`` (seat names), ``history`` (the ``--history`` syntax),
``tree`` (a node's actions with their tokens and labels, walking with the betting rules),
``walk`` (following a history down the tree) and ``hands`` (cards to buckets).
"""
