"""The blueprint: what training produces, as a product people and programs use.

``Blueprint`` (in ``api``) opens a blueprint file, a run directory or a snapshot and answers
look-ups; ``export_blueprint`` (in ``export``) writes the file. Modules, one job each:

* the file: ``container`` (header, sections, manifest, checksums), ``export`` (snapshot to
  file), ``reader`` (file, run or tables to a blueprint's parts), ``abstraction`` (the card
  abstraction by digest, or embedded), ``store`` (quantized rows, or strategy sums), ``kernels``
  (numba: quantization, every hole pair's bucket);
* the tree: ``seats``, ``history`` (the ``--history`` syntax), ``tree`` (actions and labels
  with the betting rules), ``walk`` (following a history, translating off-tree sizes),
  ``translation`` (pseudo-harmonic), ``actions`` (every node's action texts), ``nodes`` (a
  node as a `Decision`, the fast path of a walk);
* cards and results: ``hands`` (one hand to a bucket), ``handsets`` and ``boards`` (every
  hand at once), ``results`` (what look-ups return), ``ranges`` (Bayes ranges, range strings,
  CSV);
* the strategy service: ``endpoints`` (a path and query parameters to a status and a JSON
  body), ``server`` (them over HTTP, on aiohttp).
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from holdemd.blueprint.api import Blueprint
    from holdemd.blueprint.export import export_blueprint
    from holdemd.blueprint.results import (
        Action,
        Decision,
        Ranges,
        Strategy,
        StrategyTable,
        Translated,
    )

_LAZY = {
    "Blueprint": "holdemd.blueprint.api",
    "export_blueprint": "holdemd.blueprint.export",
    "Action": "holdemd.blueprint.results",
    "Decision": "holdemd.blueprint.results",
    "Ranges": "holdemd.blueprint.results",
    "Strategy": "holdemd.blueprint.results",
    "StrategyTable": "holdemd.blueprint.results",
    "Translated": "holdemd.blueprint.results",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'holdemd.blueprint' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


__all__ = [
    "Action",
    "Blueprint",
    "Decision",
    "Ranges",
    "Strategy",
    "StrategyTable",
    "Translated",
    "export_blueprint",
]
