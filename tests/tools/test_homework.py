"""Every homework master in the course: released cleanly, and its graders fail wrong work.

For each ``ChapterN/hwK_topic.ipynb`` the companion file
``tests/homework/ChapterN_hwK_topic.py`` lists plausible mistakes per question
(``MISTAKES = {question: {label: code}}``) and correct answers written differently from
the solution (``CORRECT``, same shape). The blank the student receives is always tried
as well. Every mistake and the blank must fail a test; every correct variant must pass
them all.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from bios740.tools import homework, release

ROOT = Path(__file__).resolve().parents[2]
MASTERS = release.homework_masters()
IDS = [f"{m.parent.name}_{m.stem}" for m in MASTERS]
_released: dict[Path, release.ReleasedHomework] = {}


def released(master: Path, tmp_path_factory) -> release.ReleasedHomework:
    if master not in _released:
        _released[master] = release.release_master(master, tmp_path_factory.mktemp("release"))
    return _released[master]


def load_versions(master: Path):
    """The MISTAKES and CORRECT dicts of a master's companion file."""
    path = ROOT / "tests" / "homework" / f"{master.parent.name}_{master.stem}.py"
    assert path.is_file(), (
        f"{master.relative_to(ROOT)} has no mistakes file at {path.relative_to(ROOT)}"
    )
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.MISTAKES, getattr(module, "CORRECT", {})


def load_mistakes(master: Path) -> dict[str, dict[str, str]]:
    return load_versions(master)[0]


def test_the_course_has_homework():
    assert MASTERS, "no homework masters (Chapter*/hw*.ipynb)"


@pytest.mark.parametrize("master", MASTERS, ids=IDS)
def test_student_notebook_leaks_no_solution_or_hidden_test(master, tmp_path_factory):
    result = released(master, tmp_path_factory)
    leaks = homework.leaked_lines(master, result.student_notebook.parent)
    assert not leaks, (
        f"{master.name}: the student version shows solution or hidden-test lines: {leaks}"
    )


@pytest.mark.parametrize("master", MASTERS, ids=IDS)
def test_released_checks_fail_before_the_student_works(master, tmp_path_factory):
    result = released(master, tmp_path_factory)
    _, questions = homework.parse_master(master)
    checks = homework.run_student_notebook(result.student_notebook)
    assert set(checks) == set(questions), "every question needs a grader.check cell"
    passing = [name for name, output in checks.items() if homework.check_passed(output)]
    assert not passing, f"{master.name}: these checks pass on the blank notebook: {passing}"


@pytest.mark.parametrize("master", MASTERS, ids=IDS)
def test_every_wrong_implementation_is_rejected(master, tmp_path_factory):
    """Wrong work fails, right work written differently passes (the closing note counts)."""
    result = released(master, tmp_path_factory)
    mistakes, correct = load_versions(master)
    _, questions = homework.parse_master(master)
    without = [q for q in questions if not mistakes.get(q)]
    assert not without, f"questions with no plausible mistake listed: {without}"
    report = homework.grade_mistakes(master, result.hidden_tests_dir, mistakes, correct=correct)
    print(f"\n{master.name}\n{report.summary()}")
    problems = report.problems()
    assert not problems, "\n".join(problems + [report.summary()])
