"""The notebook budget of the root conftest: CPU time fails a notebook, waiting does not."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
pytest_plugins = ["pytester"]


def write_notebook(path: Path, source: str, budget_s: float) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    notebook.metadata["bios740"] = {"budget_s": budget_s}
    notebook.cells = [nbformat.v4.new_code_cell(source)]
    nbformat.write(notebook, path)


@pytest.fixture
def suite(pytester):
    shutil.copy(ROOT / "conftest.py", pytester.path / "conftest.py")
    return pytester


def run(suite, source: str, budget_s: float):
    write_notebook(suite.path / "work.ipynb", source, budget_s)
    result = suite.runpytest_subprocess("--nbval-lax", "-p", "no:cacheprovider", "work.ipynb")
    (row,) = json.loads((suite.path / "test-reports" / "notebooks.json").read_text())
    return result, row


def test_a_notebook_that_computes_past_its_budget_fails(suite):
    busy = "import time\nend = time.process_time() + 3\nwhile time.process_time() < end:\n    pass"
    result, row = run(suite, busy, budget_s=1.5)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*work.ipynb used * s of CPU, over its 2 s budget*"])
    assert row["notebook_cpu_seconds"] >= 3 and not row["passed"], row


def test_a_notebook_that_waits_is_judged_by_its_cpu_time(suite):
    # Margins for a loaded runner: kernel start-up costs about 1 s of CPU, and the wall
    # limit (3 x 5 s) leaves 9 s for it beyond the sleep.
    result, row = run(suite, "import time\ntime.sleep(6)", budget_s=5)
    result.assert_outcomes(passed=2)
    assert row["notebook_seconds"] >= 6 > 5 > row["notebook_cpu_seconds"] and row["passed"]


def test_a_notebook_that_hangs_fails_on_wall_time(suite):
    result, row = run(suite, "import time\ntime.sleep(10)", budget_s=3)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*ran * s, over 3 times its 3 s budget*waited or hung*"])
    assert row["notebook_cpu_seconds"] < 3 and not row["passed"]
