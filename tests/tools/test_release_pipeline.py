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


CORRECT = {
    "q1_standardize": {
        "written out": "def standardize(x):\n    return (x - x.sum() / len(x)) / x.std()\n"
    }
}
#: The smallest config otter accepts: no requirements, only the chapter helpers.
MINIMAL_CONFIG = (
    nbtool.ASSIGNMENT_CONFIG.split("generate: true")[0]
    + "generate: true\nfiles:\n  - helpers.py\ntests:\n  files: true"
)
#: A config as the course's masters write it: requirements and the runtime package.
SELF_CONTAINED_CONFIG = MINIMAL_CONFIG.replace(
    "files:\n  - helpers.py",
    "requirements:\n  - torch>=2.5\n  - numpy>=1.26\nfiles:\n  - helpers.py\n  - bios740",
)


def write_demo(chapter, config=MINIMAL_CONFIG, name="hw0_demo.ipynb"):
    chapter.mkdir(exist_ok=True)
    (chapter / "helpers.py").write_text('"""Chapter 0 helpers."""\n')
    nb = nbtool.notebook_from_script(DEMO)
    nb.cells.insert(1, nbformat.v4.new_raw_cell(config))
    nb.cells.insert(4, nbformat.v4.new_code_cell(nbtool.GRADER_CELL))
    master = chapter / name
    nbformat.write(nb, master)
    return master


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    chapter = tmp_path_factory.mktemp("course") / "Chapter0"
    master = write_demo(chapter)
    released = release.release_master(master, chapter.parent / "release")
    return master, released


@pytest.fixture(scope="module")
def self_contained(tmp_path_factory):
    chapter = tmp_path_factory.mktemp("course") / "Chapter0"
    master = write_demo(chapter, SELF_CONTAINED_CONFIG, "hw9_demo.ipynb")
    return master, release.release_master(master, chapter.parent / "release")


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


def test_harness_accepts_correct_variants_and_reports_rejected_ones(demo):
    master, released = demo
    wrong_correct = {
        "q1_standardize": {"not actually right": "def standardize(x):\n    return x\n"}
    }
    report = homework.grade_mistakes(master, released.hidden_tests_dir, MISTAKES, correct=CORRECT)
    assert report.accepted("q1_standardize", homework.CORRECT_PREFIX + "written out")
    assert "1/1 correct variants accepted" in report.summary().split("\n")[0]
    report = homework.grade_mistakes(
        master, released.hidden_tests_dir, MISTAKES, correct=wrong_correct
    )
    problems = report.problems()
    assert any("'correct: not actually right' version fails" in p for p in problems)
    assert any("'triples' version passes every test" in p for p in problems)


def test_config_lists_requirements_and_the_runtime_package(self_contained):
    master, released = self_contained
    assert release.requirement_list(master) == ["torch>=2.5", "numpy>=1.26"]
    names = set(zipfile.ZipFile(released.autograder_zip).namelist())
    assert {"files/helpers.py", "files/bios740/seed.py", "files/bios740/colab.py"} <= names
    assert {"files/bios740/datasets/ecg.py"} <= names
    assert not [n for n in names if n.startswith("files/bios740/tools") or "__pycache__" in n]
    requirements = release.zip_requirements(released.autograder_zip)
    assert requirements[0].startswith("otter-grader") and requirements[1:] == [
        "torch>=2.5",
        "numpy>=1.26",
    ]
    assert release.grading_requirements([master]) == requirements


def test_nbtool_default_config_makes_a_self_contained_zip():
    """A master that `nbtool build` gives the default config grades on otter's bare image."""
    config = __import__("yaml").safe_load(nbtool.ASSIGNMENT_CONFIG.split("\n", 1)[1])
    assert "bios740" in config["files"] and "helpers.py" in config["files"]
    assert any(r.startswith("torch") for r in config["requirements"])


def test_requirements_must_be_a_list(tmp_path):
    master = write_demo(
        tmp_path / "Chapter0",
        SELF_CONTAINED_CONFIG.replace(
            "requirements:\n  - torch>=2.5\n  - numpy>=1.26", "requirements: requirements.txt"
        ),
    )
    with pytest.raises(ValueError, match="list the requirements"):
        release.requirement_list(master)
    lecture = tmp_path / "Chapter0" / "hw8_none.ipynb"
    nbformat.write(nbtool.notebook_from_script(DEMO), lecture)
    with pytest.raises(ValueError, match="ASSIGNMENT CONFIG"):
        release.assignment_config(lecture)


def test_a_missing_file_in_the_config_is_named(tmp_path):
    master = write_demo(
        tmp_path / "Chapter0", SELF_CONTAINED_CONFIG.replace("- bios740", "- data.csv")
    )
    with pytest.raises(FileNotFoundError, match="data.csv"):
        release.release_master(master, tmp_path / "release")


def test_grading_environment_status_says_what_is_wrong(tmp_path):
    assert "there is no grading environment" in release.grading_environment_status(
        tmp_path / "none"
    )
    env = tmp_path / "env"
    (env / "bin").mkdir(parents=True)
    (env / "bin" / "python").write_text("")
    (env / release.GRADING_RECORD).write_text('["otter-grader==0.1"]')
    assert "other requirements" in release.grading_environment_status(env)
    (env / release.GRADING_RECORD).write_text(
        __import__("json").dumps(release.grading_requirements())
    )
    assert release.grading_environment_status(env) is None
    # a new homework can reorder the union without changing it: no rebuild needed
    (env / release.GRADING_RECORD).write_text(
        __import__("json").dumps(release.grading_requirements()[::-1])
    )
    assert release.grading_environment_status(env) is None
    (env / release.GRADING_RECORD).write_text(
        __import__("json").dumps(release.grading_requirements()[1:])
    )
    assert "other requirements" in release.grading_environment_status(env)


def test_runtime_copy_leaves_out_the_instructor_tools(tmp_path):
    copy = release.copy_runtime_package(tmp_path / "bios740")
    assert (copy / "training.py").is_file() and (copy / "datasets" / "brain_slices.py").is_file()
    assert not (copy / "tools").exists() and not list(copy.rglob("__pycache__"))


def test_student_edition_points_to_the_students_repository():
    assert release.STUDENT_REPOSITORY != release.INSTRUCTOR_REPOSITORY
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell(
            nbtool.badge_markdown(nbtool.REPOSITORY_ROOT / "Chapter1/01_tensors.ipynb")
        ),
        nbformat.v4.new_code_cell(nbtool.setup_cell_source()),
    ]
    release.point_to_student_repository(nb)
    owner_repo = release.STUDENT_REPOSITORY.split("github.com/")[1]
    assert f"/github/{owner_repo}/blob/main/Chapter1/01_tensors.ipynb" in nb.cells[0].source
    assert nb.cells[1].source == release.student_setup_cell()
    assert f'COURSE_REPOSITORY = "{release.STUDENT_REPOSITORY}"' in nb.cells[1].source


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


def test_swap_derives_a_mistake_and_refuses_a_stale_one():
    solution = "def area(w, h):\n    return w * h\n"
    assert homework.swap(solution, "w * h", "w + h") == "def area(w, h):\n    return w + h\n"
    with pytest.raises(ValueError, match="not in the solution any more"):
        homework.swap(solution, "width * height", "width + height")
    assert homework.swap(solution, "w * h", "w + h", "area", "perimeter") == (
        "def perimeter(w, h):\n    return w + h\n"
    )
    with pytest.raises(ValueError, match="pairs"):
        homework.swap(solution, "w * h")
