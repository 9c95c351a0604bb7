"""The shipped bucket files are package data: an installed package finds them without the
source checkout around it."""

from __future__ import annotations

import fnmatch
import importlib.resources
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import holdemd.abstraction
from holdemd.abstraction.store import shipped_dir

ROOT = Path(__file__).resolve().parents[2]


def test_the_shipped_directory_is_inside_the_package():
    package = Path(holdemd.abstraction.__file__).resolve().parent
    assert shipped_dir() == Path(str(importlib.resources.files("holdemd.abstraction"))) / "shipped"
    assert shipped_dir().resolve().parent == package
    assert {"quick.npz", "quick.json", "mid.npz", "mid.json"} <= {
        p.name for p in shipped_dir().iterdir()
    }


def test_the_package_data_globs_take_every_shipped_file():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    with open(ROOT / "pyproject.toml", "rb") as f:
        globs = tomllib.load(f)["tool"]["setuptools"]["package-data"]["holdemd.abstraction"]
    files = [f"shipped/{p.name}" for p in shipped_dir().iterdir() if p.is_file()]
    assert [name for name in files if not any(fnmatch.fnmatch(name, g) for g in globs)] == []


def test_a_copy_of_the_package_alone_finds_the_shipped_buckets(tmp_path):
    # What a regular `pip install` leaves: the package in site-packages, no repository around
    # it. The presets must come from the package, not from a cache or the checkout.
    site = tmp_path / "site"
    shutil.copytree(
        ROOT / "holdemd", site / "holdemd", ignore=shutil.ignore_patterns("__pycache__")
    )
    script = (
        "import holdemd\n"
        "from holdemd.abstraction.load import resolve\n"
        "from holdemd.abstraction.store import read_bundle\n"
        "path, command = resolve('quick')\n"
        "arrays, manifest = read_bundle(path, command)\n"
        "print(holdemd.__file__)\n"
        "print(path)\n"
        "print(manifest['counts'])\n"
    )
    env = dict(os.environ, PYTHONPATH=str(site), XDG_CACHE_HOME=str(tmp_path / "empty-cache"))
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    package_file, bundle, counts = result.stdout.splitlines()
    assert Path(package_file).is_relative_to(site)  # the copy was imported, not the checkout
    assert Path(bundle) == site / "holdemd" / "abstraction" / "shipped" / "quick.npz"
    assert counts == "[169, 50, 50, 50]"
