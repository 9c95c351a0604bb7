"""holdemd.jit: the one way kernels are declared, and what every kernel's docstring says."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from holdemd import jit

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "holdemd"
DECORATORS = {"kernel", "inline_kernel", "parallel_kernel"}
_HEADER = re.compile(r"^(\w[\w ]*)\n-+$", re.M)
_ENTRY = re.compile(r"^(\w[\w, ]*?) : (\S.*)$")


def _python_files() -> Iterator[Path]:
    for top in ("holdemd", "tests", "bench", "client"):
        yield from sorted((ROOT / top).rglob("*.py"))


def _kernels() -> Iterator[tuple[str, ast.FunctionDef]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and any(
                isinstance(d, ast.Name) and d.id in DECORATORS for d in node.decorator_list
            ):
                yield f"{path.relative_to(ROOT)}:{node.lineno} {node.name}", node


def _documented_parameters(doc: str) -> dict[str, str]:
    """name -> type text of the numpydoc ``Parameters`` section (``a, b : int`` names both)."""
    headers = list(_HEADER.finditer(doc))
    for i, header in enumerate(headers):
        if header.group(1) == "Parameters":
            end = headers[i + 1].start() if i + 1 < len(headers) else len(doc)
            section = doc[header.end() : end]
            found = {}
            for line in section.splitlines():
                match = _ENTRY.match(line)
                if match:
                    for name in match.group(1).split(","):
                        found[name.strip()] = match.group(2)
            return found
    return {}


def test_kernels_are_declared_only_through_holdemd_jit():
    offenders = []
    for path in _python_files():
        if path in (PACKAGE / "jit.py", Path(__file__).resolve()):
            continue
        text = path.read_text()
        if re.search(r"\bnjit\b|numba\.jit\b|from numba import .*\bjit\b|numba_cache", text):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_every_kernel_with_three_or_more_arguments_documents_each_one():
    missing = []
    count = 0
    for where, node in _kernels():
        names = [a.arg for a in node.args.args]
        if len(names) < 3:
            continue
        count += 1
        documented = _documented_parameters(ast.get_docstring(node) or "")
        absent = [n for n in names if n not in documented]
        if absent:
            missing.append(f"{where}: {', '.join(absent)}")
    assert count > 40  # the scan sees the kernels
    assert missing == []


def test_documented_parameters_reads_numpydoc():
    doc = "Text.\n\nParameters\n----------\nh0, h1 : int\n    Cards.\nout : float64[K], out\n\nReturns\n-------\nx : int\n"
    assert _documented_parameters(doc) == {"h0": "int", "h1": "int", "out": "float64[K], out"}


def test_cache_dir_is_keyed_by_version_and_source(monkeypatch: pytest.MonkeyPatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    path = jit.cache_dir()
    assert path.parent == tmp_path / "holdemd" / "numba"
    version, digest = path.name.rsplit("-", 1)
    assert version and len(digest) == 16 and digest == jit.source_digest()
