"""Games as data: rules compiled into the arrays the solver kernels read.

``kinds``      which games exist and what sets them apart (the one switch on a game's name)
``factory``    config -> compiled game (``build_game``); fixed-rule games by name (``make_game``)
``compiled``   the arrays (``Game``, ``GameArrays``) every kernel reads
``small``      Kuhn and Leduc;  ``nolimit``, ``betting``, ``holdem``  no-limit Hold'em trees
``tree_size``  counting a tree before building it;  ``report``  rows and memory of a tree

Nothing is imported here: ``kinds`` stays cheap for the config schema.
"""
