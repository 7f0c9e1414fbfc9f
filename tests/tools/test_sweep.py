"""The seed sweep runs each notebook per seed, changes the thread count and reports."""

from __future__ import annotations

import nbformat

from bios740.tools import sweep


def _notebook(path, parameters: str, body: str):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    cell = nbformat.v4.new_code_cell(parameters)
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [cell, nbformat.v4.new_code_cell(body)]
    nbformat.write(nb, path)
    return path


def test_sweep_finds_the_seed_that_breaks_a_claim(tmp_path):
    fragile = _notebook(
        tmp_path / "fragile.ipynb",
        "SEED = 0",
        "import os\nassert SEED != 3, 'the effect vanished'\nprint(os.environ['OMP_NUM_THREADS'])",
    )
    unseeded = _notebook(tmp_path / "unseeded.ipynb", "EPOCHS = 1", "x = 1")
    lines = []
    runs = sweep.sweep([fragile, unseeded], seeds=(0, 3), jobs=2, progress=lines.append)
    by_key = {(run.notebook.split("/")[-1], run.seed): run for run in runs}
    assert by_key[("fragile.ipynb", 0)].passed and by_key[("fragile.ipynb", 0)].threads == 1
    failed = by_key[("fragile.ipynb", 3)]
    assert not failed.passed and failed.threads == 2
    assert "AssertionError" in failed.error and "the effect vanished" in failed.error
    assert all("no SEED" in run.error for run in runs if "unseeded" in run.notebook)
    table = sweep.report(runs)
    assert "1 passed, 3 failed" in table and "FAILED" in table
    assert len(lines) == 4


def test_a_run_over_budget_fails(tmp_path):
    slow = _notebook(tmp_path / "slow.ipynb", "SEED = 0", "import time\ntime.sleep(1.5)")
    (run,) = sweep.sweep([slow], seeds=(0,), jobs=1, budget_s=1.0, progress=lambda _: None)
    assert not run.passed and "budget" in run.error


def test_keep_stores_every_executed_notebook(tmp_path):
    fragile = _notebook(
        tmp_path / "fragile.ipynb", "SEED = 0", "print(f'value {SEED * 10}')\nassert SEED != 1"
    )
    kept = tmp_path / "runs" / "inner"
    sweep.sweep([fragile], seeds=(0, 1), jobs=2, progress=lambda _: None, keep=kept)
    assert sorted(p.name for p in kept.iterdir()) == ["fragile_seed0.ipynb", "fragile_seed1.ipynb"]
    printed = nbformat.read(kept / "fragile_seed1.ipynb", as_version=4).cells[-1].outputs
    assert any("value 10" in o.get("text", "") for o in printed)  # failed runs are kept too
    (tmp_path / "a_file").write_text("")
    try:
        sweep.sweep([fragile], seeds=(0,), progress=lambda _: None, keep=tmp_path / "a_file")
    except ValueError as error:
        assert "is a file" in str(error)
    else:
        raise AssertionError("a file given as --keep was accepted")
