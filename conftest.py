"""Test-suite plumbing: notebook time and memory budgets, and the notebook report.

nbval turns every code cell of every notebook into a test item. This file adds one
more item per notebook, ``<notebook>::budget``, which runs after the notebook's last
cell while its kernel is still alive. It measures the notebook's wall time (kernel
start to last cell), the CPU time its kernel used (with its children) and the kernel's
peak resident memory, and reports them to the controller process, which writes
``test-reports/notebooks.json`` and prints a table at the end of the run.

The budget (``bios740.tools.nbtool.budget_seconds``: 120 s unless the notebook's
metadata says otherwise) is checked against the kernel's CPU time. Under the test suite
every kernel runs one math thread, so CPU time is the wall time the notebook takes when
it has a core to itself, as with two notebooks on a 2-core machine; the wall time of a
shared CI runner also counts the neighbours (one CI run measured 150 s of wall time for
a notebook that needs 55 s of CPU). A wall time over ``WALL_FACTOR`` times the budget
still fails the notebook: that catches a kernel that waits or hangs.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import psutil
import pytest

from bios740.tools.nbtool import budget_seconds

ROOT = Path(__file__).resolve().parent
REPORT = ROOT / "test-reports" / "notebooks.json"
WALL_FACTOR = 3.0

if os.environ.get("PYTEST_XDIST_WORKER"):
    # Two workers share two cores: one math thread per kernel avoids oversubscription,
    # which can slow small tensor operations several-fold. Kernels inherit this.
    for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(variable, "1")

_started: dict[str, float] = {}
_results: dict[str, dict] = {}


def _notebook_of(nodeid: str) -> str | None:
    path = nodeid.split("::", 1)[0]
    return path if path.endswith(".ipynb") else None


def _peak_memory_mb(pid: int) -> float:
    """The process's peak resident memory (VmHWM on Linux, current RSS elsewhere)."""
    status = Path(f"/proc/{pid}/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return psutil.Process(pid).memory_info().rss / 2**20


def _cpu_seconds(pid: int) -> float:
    """User and system CPU time of the process and of its children that have ended."""
    times = psutil.Process(pid).cpu_times()
    return times.user + times.system + times.children_user + times.children_system


class NotebookBudget(pytest.Item):
    """Fails when the notebook ran past its budget; reports time and peak memory."""

    def runtest(self) -> None:
        notebook = _notebook_of(self.nodeid)
        seconds = time.perf_counter() - _started[notebook]
        peak = cpu = float("nan")
        kernel = getattr(self.parent, "kernel", None)
        if kernel is not None and kernel.is_alive():
            pid = kernel.km.provisioner.process.pid
            peak, cpu = _peak_memory_mb(pid), _cpu_seconds(pid)
        budget = budget_seconds(self.path)
        self.user_properties.extend(
            [
                ("notebook_seconds", seconds),
                ("notebook_cpu_seconds", cpu),
                ("notebook_peak_mb", peak),
                ("budget_s", budget),
            ]
        )
        if cpu > budget:
            raise NotebookOverBudget(
                f"{notebook} used {cpu:.0f} s of CPU, over its {budget:.0f} s budget"
            )
        if seconds > WALL_FACTOR * budget:
            raise NotebookOverBudget(
                f"{notebook} ran {seconds:.0f} s, over {WALL_FACTOR:g} times its "
                f"{budget:.0f} s budget (it used {cpu:.0f} s of CPU: it waited or hung)"
            )

    def repr_failure(self, excinfo):
        return str(excinfo.value)

    def reportinfo(self):
        return self.path, None, f"{self.name}"


class NotebookOverBudget(Exception):
    """A notebook ran longer than its time budget."""


def pytest_collection_modifyitems(session, config, items):
    """Append a budget item after the last cell of each notebook."""
    last_index: dict[object, int] = {}
    for index, item in enumerate(items):
        if item.nodeid.split("::", 1)[0].endswith(".ipynb"):
            last_index[item.parent] = index
    for parent, index in sorted(last_index.items(), key=lambda pair: -pair[1]):
        items.insert(index + 1, NotebookBudget.from_parent(parent, name="budget"))


def pytest_runtest_logstart(nodeid, location):
    notebook = _notebook_of(nodeid)
    if notebook and notebook not in _started:
        _started[notebook] = time.perf_counter()


def pytest_runtest_logreport(report):
    """Collect, in the controller, each notebook's outcome and measurements."""
    notebook = _notebook_of(report.nodeid)
    if notebook is None:
        return
    entry = _results.setdefault(notebook, {"notebook": notebook, "passed": True})
    if report.failed:
        entry["passed"] = False
    if report.nodeid.endswith("::budget") and report.when == "call":
        for key, value in report.user_properties:
            entry[key] = round(value, 1) if value == value else None


def _is_controller(config) -> bool:
    return not hasattr(config, "workerinput")


def pytest_sessionfinish(session, exitstatus):
    if not _is_controller(session.config) or not _results:
        return
    REPORT.parent.mkdir(exist_ok=True)
    rows = sorted(_results.values(), key=lambda row: row["notebook"])
    REPORT.write_text(json.dumps(rows, indent=2) + "\n")


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not _is_controller(config) or not _results:
        return
    write = terminalreporter.write_line
    terminalreporter.section("notebooks: wall time, kernel CPU time and peak kernel memory")
    write(
        f"{'notebook':58s} {'wall (s)':>9s} {'CPU (s)':>8s} {'budget':>7s} {'peak MB':>8s}  result"
    )
    for row in sorted(_results.values(), key=lambda row: row["notebook"]):
        seconds, cpu = row.get("notebook_seconds"), row.get("notebook_cpu_seconds")
        peak = row.get("notebook_peak_mb")
        write(
            f"{row['notebook']:58s} {seconds if seconds is not None else '-':>9} "
            f"{cpu if cpu is not None else '-':>8} "
            f"{row.get('budget_s', '-'):>7} {peak if peak is not None else '-':>8}  "
            f"{'passed' if row['passed'] else 'FAILED'}"
        )
    write(f"(written to {REPORT.relative_to(ROOT)})")
