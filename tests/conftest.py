"""Fixtures and import paths shared by every test folder.

``tests/`` holds the tests of the runtime package ``bios740``; ``tests/datasets/`` of
``bios740.datasets``; ``tests/tools/`` of the instructor tooling (notebook conventions,
setup cell, homework harness, releases, lint); ``tests/chapters/`` of each chapter's
``helpers.py``; ``tests/homework/`` holds each homework's mistakes file.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).resolve().parent
REPOSITORY_ROOT = TESTS_DIR.parent

# Test modules in every subfolder import `chapter_modules` from here.
if str(TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(TESTS_DIR))


@pytest.fixture
def repository_root() -> Path:
    """The course repository's root folder."""
    return REPOSITORY_ROOT
