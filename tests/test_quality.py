"""House style holds on every commit: ruff (lint) and mypy on the typed parts."""

from __future__ import annotations

import glob
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


@pytest.mark.slow
def test_ruff_finds_nothing():
    result = subprocess.run(
        [str(BIN / "ruff"), "check", "shared", "services", "gateway", "tests", "bench"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_mypy_passes_on_shared_the_domains_and_the_gateway():
    domains = sorted(glob.glob("services/*/domain.py", root_dir=ROOT))
    result = subprocess.run(
        [str(BIN / "mypy"), "shared", *domains, "gateway"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
