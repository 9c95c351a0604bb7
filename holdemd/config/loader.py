"""A config file to a checked Config: YAML read strictly, bound to the schema, overridden."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from holdemd.config.binder import apply_overrides, build_dataclass
from holdemd.config.schema import Config
from holdemd.config.yaml_file import load_yaml_file


def load_config(path: Path, overrides: dict[str, Any] | None = None) -> Config:
    """Read and validate ``path``, then apply command-line ``overrides`` (dotted keys)."""
    config = build_dataclass(Config, load_yaml_file(path), source=str(path))
    if overrides:
        config = apply_overrides(config, overrides, source="command line")
    return config
