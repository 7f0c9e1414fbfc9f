"""The student edition (``make release`` → ``release/course/``): what students clone.

It must hold everything a student needs (lectures as committed, student homework with
public tests, chapter helpers, the runtime part of ``bios740``, requirements, a README)
and nothing the instructors keep (masters, solutions, hidden tests, mistakes files,
``bios740/tools``). Its notebooks pass the course conventions as a repository of their
own, with badges and setup cell pointing to the students' repository; and on the
stand-in Colab a homework notebook from it sets up and runs its ``grader.check`` cells.
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import nbformat
import pytest
from test_setup_cell import FakeColab

from bios740.tools import homework, nbtool, release

ROOT = Path(__file__).resolve().parents[2]
MASTERS = release.homework_masters()


@pytest.fixture(scope="module")
def edition(tmp_path_factory) -> Path:
    output = tmp_path_factory.mktemp("release")
    released = [release.release_master(master, output) for master in MASTERS]
    return release.build_student_edition(released, output / "course")


def edition_files(edition: Path) -> list[Path]:
    return sorted(p for p in edition.rglob("*") if p.is_file())


def test_the_edition_holds_what_students_need(edition):
    assert (edition / "README.md").is_file() and (edition / "requirements.txt").is_file()
    assert (edition / "bios740" / "colab.py").is_file() and (
        edition / "bios740" / "seed.py"
    ).is_file()
    assert (edition / "bios740" / "datasets" / "ecg.py").is_file()
    for master in MASTERS:
        chapter = edition / master.parent.name
        assert (chapter / "helpers.py").is_file()
        assert (chapter / master.name).is_file(), f"no student version of {master.name}"
        _, questions = homework.parse_master(master)
        assert {p.stem for p in (chapter / "tests").glob("*.py")} >= set(questions)
    lectures = [p for p in ROOT.glob("Chapter*/*.ipynb") if not nbtool.is_homework(p)]
    for lecture in lectures:
        copy = edition / lecture.relative_to(ROOT)
        assert copy.is_file(), f"{lecture.relative_to(ROOT)} is missing from the edition"
        ours, theirs = (nbformat.read(p, as_version=4) for p in (lecture, copy))
        assert [c.source for c in ours.cells[2:]] == [c.source for c in theirs.cells[2:]]
        assert [c.get("outputs") for c in ours.cells] == [c.get("outputs") for c in theirs.cells]
    assert release.STUDENT_REPOSITORY in (edition / "README.md").read_text()


def test_nothing_the_instructors_keep(edition):
    names = [p.relative_to(edition).as_posix() for p in edition_files(edition)]
    assert not [n for n in names if n.startswith("bios740/tools")], "instructor tools"
    assert not [n for n in names if n.startswith("tests/") or "/homework/" in n], "test files"
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    for path in edition_files(edition):
        text = path.read_text(errors="ignore")
        where = path.relative_to(edition)
        assert "'hidden': True" not in text and '"hidden": true' not in text, f"hidden test {where}"
        assert "# ASSIGNMENT CONFIG" not in text, f"a master's config in {where}"
        assert "BEGIN SOLUTION" not in text and "MISTAKES" not in text, f"solutions in {where}"
        assert release.INSTRUCTOR_REPOSITORY + '"' not in text, f"instructors' URL in {where}"


def test_no_solution_or_hidden_test_line_anywhere(edition):
    # Lines that are public anyway: committed lectures, chapter helpers and the course
    # package students receive (a solution line such as `batch, length, d_model = x.shape`
    # may also stand in bios740/attention.py; the homework's tests forbid calling it).
    public: set[str] = set()
    shipped_package = [p for p in ROOT.glob("bios740/**/*.py") if "tools" not in p.parts]
    for path in [*ROOT.glob("Chapter*/*"), *shipped_package]:
        if path.suffix == ".ipynb" and not nbtool.is_homework(path):
            for cell in nbformat.read(path, as_version=4).cells:
                public |= {line.strip() for line in cell.source.split("\n")}
        elif path.suffix == ".py":
            public |= {line.strip() for line in path.read_text().split("\n")}
    secrets = set().union(*(homework.secret_lines(m) for m in MASTERS)) - public
    # An import names a library, not an answer (a hidden test's `from unittest import mock`
    # may also stand in another homework's visible test).
    secrets = {line for line in secrets if not re.match(r"(from [\w.]+ )?import [\w., ]+$", line)}
    assert len(secrets) > 50, "the masters' secrets were not found"
    shown: set[str] = set()
    for path in edition_files(edition):
        if path.suffix == ".ipynb":
            for cell in nbformat.read(path, as_version=4).cells:
                shown |= {line.strip() for line in cell.source.split("\n")}
        elif path.suffix in (".py", ".md", ".txt"):
            text = path.read_text().replace("\\n", "\n")
            shown |= {
                line.strip().removeprefix(">>> ").removeprefix("... ") for line in text.split("\n")
            }
    assert sorted(secrets & shown) == []


#: Conventions that only a master can meet: the otter config, and stored outputs (a
#: student notebook ships blank and unexecuted, so that no answer shows in it).
MASTER_ONLY = {"homework", "execution-order"}


def test_every_notebook_passes_the_conventions_as_its_own_repository(
    edition, monkeypatch, tmp_path
):
    setup_cell = tmp_path / "setup_cell.py"
    setup_cell.write_text(release.student_setup_cell() + "\n")
    monkeypatch.setattr(nbtool, "REPOSITORY_ROOT", edition)
    monkeypatch.setattr(nbtool, "SETUP_CELL_FILE", setup_cell)
    assert nbtool.repository_url() == release.STUDENT_REPOSITORY
    notebooks = sorted(edition.glob("Chapter*/*.ipynb"))
    assert len(notebooks) >= len(MASTERS) + 10
    problems = []
    for notebook in notebooks:
        student_homework = nbtool.is_homework(notebook)
        for violation in nbtool.check_notebook(notebook):
            if not (student_homework and violation.convention in MASTER_ONLY):
                problems.append(str(violation))
        if student_homework:
            nb = nbformat.read(notebook, as_version=4)
            assert not any(o for c in nb.cells for o in c.get("outputs", [])), notebook.name
            assert any('otter.Notebook(tests_dir="tests")' in c.source for c in nb.cells)
    assert not problems, "\n".join(problems)


def test_a_student_homework_sets_up_on_colab_and_checks_run(edition, tmp_path, monkeypatch):
    master = MASTERS[0]
    notebook_path = f"{master.parent.name}/{master.name}"

    class StudentColab(FakeColab):
        @staticmethod
        def make_course(target: Path) -> None:  # the clone is the student edition
            shutil.copytree(edition, target)
            (target / ".git").mkdir()

    colab = StudentColab(tmp_path, monkeypatch, notebook_path=notebook_path)
    nb = nbformat.read(edition / notebook_path, as_version=4)
    namespace: dict = {"__name__": "__main__"}
    exec(compile(nb.cells[1].source, "<setup cell>", "exec"), namespace)
    course = colab.drive_root / "MyDrive" / "BIOS740"
    assert ("git clone", release.STUDENT_REPOSITORY, str(course)) in colab.actions
    assert Path.cwd() == course / master.parent.name
    assert sys.path[:2] == [str(course), str(course / master.parent.name)]

    monkeypatch.delitem(sys.modules, "helpers", raising=False)  # import the edition's copy
    code = [c for c in nb.cells if c.cell_type == "code"]
    _, questions = homework.parse_master(master)
    first = next(iter(questions.values()))
    answer = next(c for c in code if "otter_answer_cell" in c.metadata.get("tags", []))
    for cell in code[1:]:  # parameters, grader, imports: up to the first answer
        if cell is answer:
            break
        exec(compile(cell.source, "<cell>", "exec"), namespace)
    assert Path(sys.modules["helpers"].__file__).resolve() == (
        course / master.parent.name / "helpers.py"
    )
    exec(compile(answer.source, "<blank answer>", "exec"), namespace)
    blank = namespace["grader"].check(first.name, global_env=namespace)
    assert not blank.passed_all, "the blank passes its check"
    exec(compile("\n".join(first.solution_cells), "<solution>", "exec"), namespace)
    solved = namespace["grader"].check(first.name, global_env=namespace)
    sys.modules.pop("helpers", None)
    assert solved.passed_all, f"the solution fails its public check:\n{solved!r}"
