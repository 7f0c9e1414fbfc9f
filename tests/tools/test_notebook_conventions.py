"""Every course notebook follows the conventions in docs/AUTHORING.md.

The first test runs the checker on every notebook. The rest prove that the checker
catches each convention when it is broken, by damaging a copy of a real notebook.
"""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import nbformat
import pytest

from bios740.tools import nbtool

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = nbtool.course_notebooks()
SAMPLE = "Chapter1/01_tensors.ipynb"


def test_the_course_has_notebooks():
    assert NOTEBOOKS, "no notebooks found under Chapter*/"
    assert (ROOT / SAMPLE).is_file()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.relative_to(ROOT).as_posix() for p in NOTEBOOKS])
def test_notebook_follows_the_conventions(path):
    violations = nbtool.check_notebook(path)
    assert not violations, "convention violations:\n" + "\n".join(map(str, violations))


def test_every_chapter_has_a_readme_listing_its_notebooks():
    for number in range(1, 13):
        chapter = ROOT / f"Chapter{number}"
        readme = chapter / "README.md"
        assert readme.is_file(), f"{chapter.name} has no README.md"
        text = readme.read_text()
        for notebook in chapter.glob("*.ipynb"):
            assert notebook.name in text, (
                f"{readme.relative_to(ROOT)} does not list {notebook.name}"
            )


# ------------------------------------------------------------------ the checker bites


def _first(nb, kind):
    return next(c for c in nb.cells if c.cell_type == kind)


def _code(nb, index):
    return [c for c in nb.cells if c.cell_type == "code"][index]


def _drop_badge(nb):
    title = _first(nb, "markdown")
    title.source = "\n".join(line for line in title.source.split("\n") if "colab-badge" not in line)


def _wrong_badge(nb):
    title = _first(nb, "markdown")
    title.source = title.source.replace(SAMPLE, "Chapter1/02_other.ipynb")


def _edit_setup(nb):
    _code(nb, 0).source += "\nprint('changed')"


def _out_of_order(nb):
    _code(nb, 2).execution_count, _code(nb, 3).execution_count = (
        _code(nb, 3).execution_count,
        _code(nb, 2).execution_count,
    )


def _untag_parameters(nb):
    _code(nb, 1).metadata["tags"] = []


def _last_markdown_without(heading):
    def damage(nb):
        for cell in nb.cells:
            if cell.cell_type == "markdown" and f"## {heading}" in cell.source:
                cell.source = cell.source.replace(f"## {heading}", "## Notes")

    return damage


def _error_output(nb):
    _code(nb, 2).outputs.append(
        nbformat.v4.new_output("error", ename="ValueError", evalue="boom", traceback=[])
    )


def _long_output(nb):
    _code(nb, 2).outputs.append(
        nbformat.v4.new_output("stream", name="stdout", text="line\n" * 100)
    )


def _absolute_path(nb):
    _code(nb, 2).source += "\n# data in /home/alice/bios740/data.csv"


def _path_in_output(nb):
    _code(nb, 2).outputs.append(
        nbformat.v4.new_output("stream", name="stdout", text="saved to /Users/bob/x.pt\n")
    )


def _kernelspec(nb):
    nb.metadata["kernelspec"]["name"] = "ir"


def _no_run_time(nb):
    title = _first(nb, "markdown")
    title.source = title.source.replace("Run time", "Duration")


def _no_goals(nb):
    title = _first(nb, "markdown")
    title.source = title.source.replace("Learning goals", "Aims")


def _empty_code_cell(nb):
    nb.cells.insert(5, nbformat.v4.new_code_cell(""))


DAMAGES = {
    "badge": _drop_badge,
    "wrong-badge": _wrong_badge,
    "setup-cell": _edit_setup,
    "execution-order": _out_of_order,
    "parameters": _untag_parameters,
    "exercises": _last_markdown_without("Exercises"),
    "references": _last_markdown_without("References"),
    "errors": _error_output,
    "output-length": _long_output,
    "paths": _absolute_path,
    "paths-in-output": _path_in_output,
    "kernelspec": _kernelspec,
    "title-cell": _no_run_time,
    "title-cell-goals": _no_goals,
    "empty-cell": _empty_code_cell,
}
EXPECTED = {
    "wrong-badge": "badge",
    "paths-in-output": "paths",
    "title-cell-goals": "title-cell",
    "empty-cell": "execution-order",
}


def test_the_sample_is_clean():
    assert nbtool.check_notebook(ROOT / SAMPLE) == []


@pytest.mark.parametrize("damage", sorted(DAMAGES))
def test_breaking_a_convention_is_reported_with_notebook_and_name(tmp_path, damage):
    nb = nbformat.read(ROOT / SAMPLE, as_version=4)
    DAMAGES[damage](nb)
    copy_path = tmp_path / "01_tensors.ipynb"
    nbformat.write(nb, copy_path)
    violations = nbtool.check_notebook(copy_path, as_path=SAMPLE)
    convention = EXPECTED.get(damage, damage)
    assert [v.convention for v in violations] == [convention], violations
    assert str(violations[0]).startswith(f"{SAMPLE}: [{convention}]")


def test_file_name_size_and_homework_config(tmp_path):
    spaced = tmp_path / "01 tensors.ipynb"
    shutil.copy(ROOT / SAMPLE, spaced)
    assert "file-name" in {
        v.convention for v in nbtool.check_notebook(spaced, as_path="Chapter1/01 tensors.ipynb")
    }

    nb = json.loads((ROOT / SAMPLE).read_text())
    nb["metadata"]["padding"] = "x" * 1_100_000
    big = tmp_path / "big.ipynb"
    big.write_text(json.dumps(nb))
    assert "size" in {v.convention for v in nbtool.check_notebook(big, as_path=SAMPLE)}

    homework = tmp_path / "hw9_demo.ipynb"
    shutil.copy(ROOT / SAMPLE, homework)
    found = {
        v.convention for v in nbtool.check_notebook(homework, as_path="Chapter1/hw9_demo.ipynb")
    }
    assert "homework" in found and "badge" in found


# ------------------------------------------------------------------ the tool


def test_stamp_repairs_badge_and_setup_cell(tmp_path):
    nb = nbformat.read(ROOT / SAMPLE, as_version=4)
    pristine = copy.deepcopy(nb)
    assert nbtool.stamp(nb, ROOT / SAMPLE) is False  # already current
    _drop_badge(nb)
    _edit_setup(nb)
    assert nbtool.stamp(nb, ROOT / SAMPLE) is True
    assert nb.cells[0].source == pristine.cells[0].source
    assert nb.cells[1].source == nbtool.setup_cell_source()


def test_notebook_from_script_round_trip():
    script = '# %% [markdown]\n# # Title\n#\n# text\n\n# %% tags=["parameters"]\nEPOCHS = 3\n\n# %% [raw]\n# # BEGIN QUESTION\n# name: q1\n\n# %%\nx = 1\n'
    nb = nbtool.notebook_from_script(script)
    assert [c.cell_type for c in nb.cells] == ["markdown", "code", "raw", "code"]
    assert nb.cells[0].source == "# Title\n\ntext"
    assert nb.cells[1].metadata["tags"] == ["parameters"] and nb.cells[1].source == "EPOCHS = 3"
    assert nb.cells[2].source == "# BEGIN QUESTION\nname: q1"
    with pytest.raises(ValueError, match="cell markers"):
        nbtool.notebook_from_script("x = 1\n")


def test_new_notebook_from_the_template_passes_the_checks_once_executed(tmp_path, monkeypatch):
    target = ROOT / "Chapter12" / "98_template_probe.ipynb"
    try:
        nbtool.new_notebook(target, title="Template probe")
        with pytest.raises(FileExistsError):
            nbtool.new_notebook(target, title="again")
        nbtool.execute(target)
        assert nbtool.check_notebook(target) == []
    finally:
        target.unlink(missing_ok=True)
    with pytest.raises(ValueError, match="NN_topic"):
        nbtool.new_notebook(tmp_path / "Bad Name.ipynb", title="x")


def test_cli_check_exit_status(tmp_path, capsys):
    assert nbtool.main(["check", str(ROOT / SAMPLE)]) == 0
    nb = nbformat.read(ROOT / SAMPLE, as_version=4)
    _edit_setup(nb)
    broken = ROOT / "Chapter12" / "97_broken_probe.ipynb"
    try:
        nbformat.write(nb, broken)
        assert nbtool.main(["check", str(broken)]) == 1
        assert "[setup-cell]" in capsys.readouterr().out
    finally:
        broken.unlink(missing_ok=True)


def test_papermill_overrides_the_parameters_cell(tmp_path):
    """The 'parameters' tag lets papermill (and the SLURM notebook job) change defaults."""
    import papermill

    output = tmp_path / "tensors_run.ipynb"
    papermill.execute_notebook(
        str(ROOT / SAMPLE),
        str(output),
        parameters={"MATRIX_SIZE": 64},
        cwd=str(ROOT / "Chapter1"),
        kernel_name="python3",
        progress_bar=False,
    )
    nb = nbformat.read(output, as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and "MATRIX_SIZE = 64" in injected[0].source
    printed = "".join(
        o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs
    )
    assert "64x64 matrix product" in printed
