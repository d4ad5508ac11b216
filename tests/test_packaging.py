"""Packaging metadata that a build reads without deprecation warnings."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import tomllib

PYPROJECT = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())


def test_the_licence_is_an_spdx_expression_that_the_required_setuptools_reads():
    # setuptools >= 77 warns on every build that a `license = {text = ...}` table is deprecated.
    assert PYPROJECT["project"]["license"] == "MIT"
    (requirement,) = [r for r in PYPROJECT["build-system"]["requires"] if r.startswith("setuptools")]
    minimum = re.fullmatch(r"setuptools>=(\d+)(\.\d+)*", requirement)
    assert minimum and int(minimum.group(1)) >= 77


def test_the_test_suite_filters_exactly_the_deprecation_that_is_not_ours():
    # Importing torch_geometric.nn must warn about nothing once the configured filter applies
    # (later filters given with -W take precedence, as pytest's ini filters do over -W error).
    filters = PYPROJECT["tool"]["pytest"]["ini_options"]["filterwarnings"]
    args = [sys.executable, "-W", "error::DeprecationWarning"]
    for entry in filters:
        args += ["-W", entry]
    proc = subprocess.run([*args, "-c", "import torch_geometric.nn"], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr.strip().splitlines()[-1]
