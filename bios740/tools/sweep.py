"""The seed sweep: every notebook with ``SEED`` 0–4 and another CPU thread count.

A claim a notebook asserts must hold for every seed and on every CPU, not only for the
seed and machine it was written on. The sweep runs each notebook through papermill with
``-p SEED k`` for each seed, alternating the math-library thread count (1 and 2), a
fixed number of notebooks at a time (two by default, as on a 2-core laptop), and reports
each run's time and outcome. Run it offline with ``make test-seeds``; it is part of
"done" for a notebook (docs/AUTHORING.md), while CI runs seed 0 only.

Usage::

    python -m bios740.tools.nbtool sweep                      # every notebook, seeds 0-4
    python -m bios740.tools.nbtool sweep Chapter5/*.ipynb --seeds 1 2 --jobs 2
    python -m bios740.tools.nbtool sweep Chapter5/01_*.ipynb --keep /tmp/runs  # keep outputs

``--keep`` stores every executed notebook (``<name>_seed<k>.ipynb``), failed ones too, so
that the ranges a notebook's markdown quotes ("0.92-0.97 over seeds 0-4") can be read
from the runs that the sweep just checked.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import nbformat

DEFAULT_SEEDS = (0, 1, 2, 3, 4)
THREAD_COUNTS = (1, 2)
SWEEP_BUDGET_S = 90.0


@dataclass
class SweepRun:
    """One notebook run with one seed."""

    notebook: str
    seed: int
    threads: int
    seconds: float
    passed: bool
    error: str = ""


def has_seed_parameter(path: Path) -> bool:
    """True when the notebook's ``parameters`` cell assigns ``SEED``."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code" and "parameters" in cell.get("metadata", {}).get("tags", []):
            return re.search(r"^SEED\s*=", cell.source, flags=re.M) is not None
    return False


def _last_error(output_notebook: Path, stderr: str) -> str:
    """The first line of the exception a failed run stored, else the end of stderr."""
    if output_notebook.is_file():
        nb = nbformat.read(output_notebook, as_version=4)
        for index, cell in enumerate(nb.cells):
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    return f"cell {index}: {output.get('ename')}: {output.get('evalue', '')}"[:300]
    lines = [line for line in stderr.splitlines() if line.strip()]
    return (lines[-1] if lines else "failed without a message")[:300]


def run_once(
    path: Path, seed: int, threads: int, timeout: float = 600, keep: Path | None = None
) -> SweepRun:
    """Run ``path`` with ``SEED = seed`` in a fresh kernel; time it and report.

    With ``keep``, the executed notebook is copied there as ``<name>_seed<seed>.ipynb``.
    """
    root = Path(__file__).resolve().parents[2]
    resolved = path.resolve()
    name = resolved.relative_to(root).as_posix() if resolved.is_relative_to(root) else str(path)
    if not has_seed_parameter(path):
        return SweepRun(name, seed, threads, 0.0, False, "no SEED in the parameters cell")
    environment = dict(os.environ)
    for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        environment[variable] = str(threads)
    with tempfile.TemporaryDirectory(prefix="bios740-sweep-") as scratch:
        output = Path(scratch) / path.name
        command = [
            sys.executable,
            "-m",
            "papermill",
            str(path),
            str(output),
            "-p",
            "SEED",
            str(seed),
            "--cwd",
            str(path.parent),
            "-k",
            "python3",
            "--no-progress-bar",
            "--execution-timeout",
            str(int(timeout)),
        ]
        start = time.perf_counter()
        try:
            done = subprocess.run(
                command, env=environment, capture_output=True, text=True, timeout=timeout + 60
            )
            seconds = time.perf_counter() - start
            passed = done.returncode == 0
            error = "" if passed else _last_error(output, done.stderr)
        except subprocess.TimeoutExpired:
            seconds, passed, error = time.perf_counter() - start, False, f"over {timeout:.0f} s"
        if keep is not None and output.is_file():
            shutil.copyfile(output, Path(keep) / f"{path.stem}_seed{seed}.ipynb")
    return SweepRun(name, seed, threads, round(seconds, 1), passed, error)


def sweep(
    paths: list[Path],
    seeds: tuple[int, ...] = DEFAULT_SEEDS,
    jobs: int = 2,
    budget_s: float = SWEEP_BUDGET_S,
    progress=print,
    keep: Path | None = None,
) -> list[SweepRun]:
    """Run every notebook with every seed, ``jobs`` at a time; return the runs.

    The thread count alternates between 1 and 2 from one seed to the next, so that each
    notebook also meets a different CPU configuration. A run over ``budget_s`` seconds
    counts as failed: with two notebooks at once on two cores, every notebook must stay
    within it. ``keep``: a folder (created if missing) for the executed notebooks.
    """
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    if keep is not None:
        keep = Path(keep)
        if keep.exists() and not keep.is_dir():
            raise ValueError(f"--keep {keep} is a file; give a folder for the executed notebooks")
        keep.mkdir(parents=True, exist_ok=True)
    tasks = [
        (path, seed, THREAD_COUNTS[index % len(THREAD_COUNTS)])
        for path in paths
        for index, seed in enumerate(seeds)
    ]

    def task(arguments):
        run = run_once(*arguments, keep=keep)
        if run.passed and run.seconds > budget_s:
            run.passed, run.error = (
                False,
                f"{run.seconds:.0f} s is over the {budget_s:.0f} s budget",
            )
        progress(
            f"{'ok  ' if run.passed else 'FAIL'} {run.notebook} seed {run.seed} "
            f"({run.threads} thread{'s' if run.threads > 1 else ''}) {run.seconds:.0f} s"
            + (f"  {run.error}" if run.error else "")
        )
        return run

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(task, tasks))


def report(runs: list[SweepRun]) -> str:
    """A table: one row per notebook, the time per seed, failures spelled out."""
    notebooks = sorted({run.notebook for run in runs})
    seeds = sorted({run.seed for run in runs})
    header = f"{'notebook':56s} " + " ".join(f"{f'seed {s}':>8s}" for s in seeds) + "  result"
    lines = [header]
    for notebook in notebooks:
        mine = {run.seed: run for run in runs if run.notebook == notebook}
        cells = [
            f"{mine[s].seconds:7.0f}{'' if mine[s].passed else '!'}" if s in mine else " " * 8
            for s in seeds
        ]
        ok = all(run.passed for run in mine.values())
        lines.append(
            f"{notebook:56s} "
            + " ".join(f"{c:>8s}" for c in cells)
            + f"  {'passed' if ok else 'FAILED'}"
        )
    failures = [run for run in runs if not run.passed]
    lines.append(f"{len(runs) - len(failures)} passed, {len(failures)} failed")
    lines += [f"  {r.notebook} seed {r.seed}: {r.error}" for r in failures]
    return "\n".join(lines)


def write_report(runs: list[SweepRun], path: Path) -> None:
    """Save the runs as JSON (``test-reports/seeds.json`` by default)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([asdict(run) for run in runs], indent=2) + "\n")
