"""The homework pipeline on a small master written here, with known right answers.

This proves the machinery itself: release builds a clean student notebook and an
autograder; the released checks fail on the blank; the harness accepts the solution,
rejects the blank and a wrong implementation, and reports a mistake that slips
through a weak test (so a harness that always says "rejected" would fail this test).
"""

from __future__ import annotations

import zipfile

import nbformat
import pytest

from bios740.tools import homework, nbtool, release

DEMO = r"""
# %% [markdown]
# # Homework 0: a pipeline demonstration
#
# **Learning goals** standardize a vector. **Run time:** about 5 s.

# %% tags=["parameters"]
SEED = 0

# %%
import torch

# %% [raw]
# # BEGIN QUESTION
# name: q1_standardize
# points: 2

# %% [raw]
# # BEGIN SOLUTION

# %%
def standardize(x):
    # BEGIN SOLUTION
    centred = x - x.mean()
    return centred / x.std()
    # END SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
assert standardize(torch.arange(5.0)).shape == (5,)

# %%
# HIDDEN
probe = torch.randn(50, generator=torch.Generator().manual_seed(1)) * 3 + 7
assert torch.allclose(standardize(probe), (probe - probe.mean()) / probe.std(), atol=1e-5)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION

# %% [raw]
# # BEGIN QUESTION
# name: q2_weakly_tested
# points: 1

# %% [raw]
# # BEGIN SOLUTION

# %%
def double(x):
    return 2 * x  # SOLUTION

# %% [raw]
# # END SOLUTION

# %% [raw]
# # BEGIN TESTS

# %%
assert callable(double)

# %% [raw]
# # END TESTS

# %% [raw]
# # END QUESTION
"""

MISTAKES = {
    "q1_standardize": {"no scaling": "def standardize(x):\n    return x - x.mean()\n"},
    "q2_weakly_tested": {"triples": "def double(x):\n    return 3 * x\n"},
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    chapter = tmp_path_factory.mktemp("course") / "Chapter0"
    chapter.mkdir()
    (chapter / "helpers.py").write_text('"""Chapter 0 helpers."""\n')
    nb = nbtool.notebook_from_script(DEMO)
    nb.cells.insert(1, nbformat.v4.new_raw_cell(nbtool.ASSIGNMENT_CONFIG))
    nb.cells.insert(4, nbformat.v4.new_code_cell(nbtool.GRADER_CELL))
    master = chapter / "hw0_demo.ipynb"
    nbformat.write(nb, master)
    released = release.release_master(master, chapter.parent / "release")
    return master, released


def test_release_lays_out_student_and_autograder(demo):
    master, released = demo
    assert released.student_notebook.is_file()
    assert (released.student_notebook.parent / "helpers.py").is_file()
    names = zipfile.ZipFile(released.autograder_zip).namelist()
    assert {"tests/q1_standardize.py", "tests/q2_weakly_tested.py", "files/helpers.py"} <= set(
        names
    )
    hidden = (released.hidden_tests_dir / "q1_standardize.py").read_text()
    public = (released.student_notebook.parent / "tests" / "q1_standardize.py").read_text()
    assert "'hidden': True" in hidden and "'hidden': True" not in public


def test_no_solution_or_hidden_test_leaks(demo):
    master, released = demo
    secrets = homework.secret_lines(master)
    assert "centred = x - x.mean()" in secrets and "return 2 * x" in secrets
    assert any("probe.std()" in line for line in secrets)
    assert homework.leaked_lines(master, released.student_notebook.parent) == []


def test_leak_detection_bites(demo, tmp_path):
    master, released = demo
    leaky = nbformat.read(released.student_notebook, as_version=4)
    leaky.cells.append(nbformat.v4.new_code_cell("    centred = x - x.mean()"))
    nbformat.write(leaky, tmp_path / "hw0_demo.ipynb")
    assert homework.leaked_lines(master, tmp_path) == ["centred = x - x.mean()"]


def test_released_checks_fail_on_the_blank(demo):
    _, released = demo
    checks = homework.run_student_notebook(released.student_notebook)
    assert set(checks) == {"q1_standardize", "q2_weakly_tested"}
    assert not homework.check_passed(checks["q1_standardize"])


def test_harness_accepts_the_solution_and_rejects_wrong_work(demo):
    master, released = demo
    report = homework.grade_mistakes(master, released.hidden_tests_dir, MISTAKES)
    assert report.accepted("q1_standardize", "solution")
    assert not report.accepted("q1_standardize", "blank")
    assert not report.accepted("q1_standardize", "no scaling")
    assert report.results["q1_standardize"]["no scaling"] == [
        True,
        False,
    ]  # only the hidden test catches it
    # A weak test lets a wrong answer through, and the harness says so.
    assert report.accepted("q2_weakly_tested", "triples")


def test_harness_rejects_mistakes_for_unknown_questions(demo):
    master, released = demo
    with pytest.raises(ValueError, match="lacks"):
        homework.grade_mistakes(master, released.hidden_tests_dir, {"q9": {"x": "pass"}})


def test_release_rejects_bad_paths(tmp_path):
    with pytest.raises(FileNotFoundError):
        release.release_master(tmp_path / "hw1_missing.ipynb")
    lecture = tmp_path / "01_lecture.ipynb"
    lecture.write_text("{}")
    with pytest.raises(ValueError, match="homework master"):
        release.release_master(lecture)
