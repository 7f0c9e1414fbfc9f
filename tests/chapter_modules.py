"""Load a chapter's helpers.py under a unique module name.

Every chapter has a module called ``helpers``; importing two of them by that name in
one test process would hand the second test file the first chapter's module. Tests
load them as ``chapterN_helpers`` instead.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent


def load_helpers(chapter: int) -> ModuleType:
    """Import ``ChapterN/helpers.py`` as ``chapterN_helpers`` (once per process)."""
    name = f"chapter{chapter}_helpers"
    if name in sys.modules:
        return sys.modules[name]
    path = ROOT / f"Chapter{chapter}" / "helpers.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up here while executing
    spec.loader.exec_module(module)
    return module
