"""Configs: the schema, how a YAML file becomes one, and the run flags that override it.

``schema``     the frozen dataclasses (games, abstraction, solver, training, schedule)
``loader``     ``load_config``: file -> Config;  ``binder``  the generic YAML -> dataclass binder
``yaml_file``  strict YAML reading;  ``limits``  every number's allowed range, and why
``overrides``  the one table of run flags (holdemd train, holdemctl start, the daemon's start)

Nothing is imported here, so ``overrides`` loads without YAML (the thin client uses it).
"""
