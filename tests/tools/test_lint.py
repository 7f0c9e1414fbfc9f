"""Lint and formatting with ruff, over the Python files and the notebooks' code cells.

The configuration is in pyproject.toml ([tool.ruff]); fix with
``ruff check --fix . && ruff format .``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def ruff(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ruff", *arguments], cwd=ROOT, capture_output=True, text=True
    )


def test_ruff_lint():
    result = ruff("check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format():
    result = ruff("format", "--check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_sees_notebooks():
    listed = ruff("check", "--no-cache", "--show-files", ".").stdout
    assert "01_tensors.ipynb" in listed, "ruff must lint the notebooks' code cells"
