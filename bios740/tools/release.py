"""Build the student homework, the Gradescope autograders and the student edition.

``make release`` runs ``python -m bios740.tools.release``. For every homework master
``ChapterN/hwK_topic.ipynb`` it runs ``otter assign`` and writes::

    release/student/ChapterN/hwK_topic/      the student notebook, public tests, helpers.py
    release/autograder/ChapterN/hwK_topic-autograder.zip   upload to Gradescope
    release/build/ChapterN/hwK_topic/        otter's full output (hidden tests included)

and then the **student edition**, the repository students clone and open in Colab::

    release/course/        lectures, student homework with public tests, chapter helpers,
                           the runtime part of bios740 (not bios740/tools), requirements.txt,
                           a README for students; no master, hidden test or mistakes file

Its notebooks' Colab badges and setup cell point to :data:`STUDENT_REPOSITORY`.

An autograder zip runs on its own: the master's ``# ASSIGNMENT CONFIG`` lists the
``requirements`` (ranges that hold on Colab and on otter's grading image) and the
``files`` grading needs; the entry ``bios740`` there means "a copy of the runtime part of
the course package", which this module puts next to the master before otter reads it.

``python -m bios740.tools.release grading-env DIR`` builds (once, online) the clean
virtual environment in which the test suite grades the zips with ``otter run``.

``release/`` is git-ignored: it is generated, never committed.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import nbformat
import yaml

from . import nbtool

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
PACKAGE_DIR = REPOSITORY_ROOT / "bios740"
DEFAULT_OUTPUT = REPOSITORY_ROOT / "release"

#: The instructors' repository (masters, hidden tests): the URL in the setup cell.
INSTRUCTOR_REPOSITORY = nbtool.repository_url()
#: The repository students use: ``make release`` writes ``release/course/`` for it, and the
#: edition's badges and setup cell point here. Change this line to publish elsewhere.
STUDENT_REPOSITORY = INSTRUCTOR_REPOSITORY + "-student"

#: Parts of ``bios740/`` that stay with the instructors (not in the edition or the zips).
INSTRUCTOR_ONLY = ("tools",)
#: The ``files:`` entry of an ASSIGNMENT CONFIG that stands for the runtime package.
RUNTIME_PACKAGE_ENTRY = "bios740"
#: Torch for the local grading environment: the release on this machine's disk.
GRADING_TORCH = "torch==2.14.1"
#: torchvision pins one torch release, so it is pinned to the one that matches.
GRADING_TORCHVISION = "torchvision==0.29.1"
IGNORED_NAMES = shutil.ignore_patterns(
    "__pycache__", "*.pyc", ".ipynb_checkpoints", ".OTTER_LOG", "*.egg-info"
)


@dataclass(frozen=True)
class ReleasedHomework:
    """Where one master's released pieces are."""

    master: Path
    student_notebook: Path
    autograder_zip: Path
    hidden_tests_dir: Path  # every test, hidden ones included (the autograder's tests)


def homework_masters(root: Path = REPOSITORY_ROOT) -> list[Path]:
    """Every homework master in the course (``Chapter*/hw*.ipynb``), sorted."""
    return sorted(root.glob("Chapter*/hw*.ipynb"))


def assignment_config(master: str | Path) -> dict:
    """The master's ``# ASSIGNMENT CONFIG`` cell as a dict.

    Raises:
        ValueError: the master has no such cell, or it is not a YAML mapping.
    """
    nb = nbformat.read(master, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "raw" and cell.source.lstrip().startswith("# ASSIGNMENT CONFIG"):
            config = yaml.safe_load(cell.source.split("\n", 1)[1]) if "\n" in cell.source else {}
            if not isinstance(config, dict):
                raise ValueError(f"{master}: the ASSIGNMENT CONFIG cell is not a YAML mapping")
            return config
    raise ValueError(f"{master} has no '# ASSIGNMENT CONFIG' raw cell")


def requirement_list(master: str | Path) -> list[str]:
    """The pip requirements a master's autograder installs (its config's list)."""
    requirements = assignment_config(master).get("requirements") or []
    if isinstance(requirements, str):
        raise ValueError(
            f"{master}: list the requirements in the ASSIGNMENT CONFIG (requirements: [...]) "
            "so that the grading environment can be built from them"
        )
    return [str(r) for r in requirements]


def copy_runtime_package(destination: str | Path) -> Path:
    """Copy ``bios740/`` without the instructor tools to ``destination`` (replaced)."""
    destination = Path(destination)
    shutil.rmtree(destination, ignore_errors=True)

    def ignore(folder, names):
        skipped = set(IGNORED_NAMES(folder, names))
        if Path(folder).resolve() == PACKAGE_DIR:
            skipped |= set(INSTRUCTOR_ONLY) & set(names)
        return skipped

    shutil.copytree(PACKAGE_DIR, destination, ignore=ignore)
    return destination


def _stage(master: Path, stage: Path) -> Path:
    """Lay out a master with the files its config names, for otter to read there."""
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir(parents=True)
    shutil.copy(master, stage / master.name)
    for entry in assignment_config(master).get("files") or []:
        entry = str(entry)
        if entry == RUNTIME_PACKAGE_ENTRY:
            copy_runtime_package(stage / RUNTIME_PACKAGE_ENTRY)
            continue
        source = master.parent / entry
        if source.is_dir():
            shutil.copytree(source, stage / entry, ignore=IGNORED_NAMES)
        elif source.is_file():
            (stage / entry).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, stage / entry)
        else:
            raise FileNotFoundError(
                f"{master.name}: the ASSIGNMENT CONFIG lists {entry!r}, which is not in "
                f"{master.parent}"
            )
    return stage / master.name


def release_master(master: str | Path, output: str | Path = DEFAULT_OUTPUT) -> ReleasedHomework:
    """Run ``otter assign`` on one master and lay out its student and autograder files."""
    master = Path(master).resolve()
    if not master.is_file():
        raise FileNotFoundError(f"no homework master at {master}")
    if not master.name.startswith("hw") or master.suffix != ".ipynb":
        raise ValueError(f"{master.name} is not a homework master (hwN_topic.ipynb)")
    output = Path(output).resolve()
    chapter, stem = master.parent.name, master.stem
    build = output / "build" / chapter / stem
    shutil.rmtree(build, ignore_errors=True)
    build.parent.mkdir(parents=True, exist_ok=True)
    staged = _stage(master, output / "stage" / chapter / stem)
    completed = subprocess.run(
        [sys.executable, "-m", "otter", "assign", "--no-pdfs", staged.name, str(build)],
        cwd=staged.parent,
        capture_output=True,
        text=True,
    )
    if completed.returncode != 0:
        raise RuntimeError(
            f"otter assign failed on {chapter}/{master.name}:\n{completed.stdout}\n{completed.stderr}"
        )
    student = output / "student" / chapter / stem
    shutil.rmtree(student, ignore_errors=True)
    shutil.copytree(build / "student", student)
    zips = sorted((build / "autograder").glob("*.zip"))
    if len(zips) != 1:
        raise RuntimeError(f"expected one autograder zip for {master.name}, found {len(zips)}")
    autograder = output / "autograder" / chapter / f"{stem}-autograder.zip"
    autograder.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(zips[0], autograder)
    return ReleasedHomework(
        master=master,
        student_notebook=student / master.name,
        autograder_zip=autograder,
        hidden_tests_dir=build / "autograder" / "tests",
    )


def zip_requirements(autograder_zip: str | Path) -> list[str]:
    """The pip requirements otter's grading image installs for a zip (environment.yml)."""
    with zipfile.ZipFile(autograder_zip) as archive:
        environment = yaml.safe_load(archive.read("environment.yml"))
    for dependency in environment.get("dependencies", []):
        if isinstance(dependency, dict) and "pip" in dependency:
            return [str(r) for r in dependency["pip"]]
    return []


# ---------------------------------------------------------------- the grading environment


def grading_requirements(masters: list[Path] | None = None) -> list[str]:
    """What the zips' images install with pip: otter itself plus every master's list.

    ``otter assign`` writes exactly this list (otter first) into each zip's
    ``environment.yml``; the union over the masters lets one environment grade all.
    """
    import otter

    wanted = [f"otter-grader[grading,plugins]=={otter.__version__}"]
    for master in homework_masters() if masters is None else masters:
        wanted += [r for r in requirement_list(master) if r not in wanted]
    return wanted


GRADING_RECORD = "bios740-requirements.json"


def grading_environment_status(env: str | Path, masters: list[Path] | None = None) -> str | None:
    """None if ``env`` was built from today's requirements, else what is wrong with it."""
    env = Path(env)
    python = env / "bin" / "python"
    record = env / GRADING_RECORD
    if not python.is_file() or not record.is_file():
        return f"there is no grading environment at {env}"
    built = json.loads(record.read_text())
    if sorted(built) != sorted(grading_requirements(masters)):  # the same set in any order
        return f"the grading environment at {env} was built from other requirements: {built}"
    return None


def build_grading_environment(env: str | Path, python: str = sys.executable) -> Path:
    """Build a clean virtual environment from the zips' requirements (needs the network).

    Nothing from the course's own environment is visible in it (no system site
    packages). torch is pinned by a constraint to the release on this machine's disk so
    that pip does not download another. Does nothing if the environment is current.
    """
    env = Path(env).resolve()
    if grading_environment_status(env) is None:
        print(f"grading environment at {env} is up to date")
        return env
    shutil.rmtree(env, ignore_errors=True)
    base = subprocess.run(
        [python, "-c", "import sys; print(sys.base_prefix)"], capture_output=True, text=True
    ).stdout.strip()
    base_python = Path(base) / "bin" / Path(python).name if base else Path(python)
    if not base_python.exists():
        base_python = Path(python)
    subprocess.run([str(base_python), "-m", "venv", str(env)], check=True)
    constraint = env / "constraints.txt"
    constraint.write_text(GRADING_TORCH + "\n" + GRADING_TORCHVISION + "\n")
    requirements = grading_requirements()
    subprocess.run(
        [
            str(env / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-c",
            str(constraint),
            *requirements,
        ],
        check=True,
    )
    (env / GRADING_RECORD).write_text(json.dumps(requirements))
    print(f"built the grading environment at {env}")
    return env


# ---------------------------------------------------------------- the student edition

STUDENT_README = """# BIOS 740: deep learning for biomedical data (student edition)

Lecture notebooks, homework and the small course package they use.

## Start on Google Colab

1. Open a notebook on GitHub and click its **Open in Colab** badge.
2. Choose **Runtime → Change runtime type → T4 GPU** (the CPU runtime works, slower).
3. Run the first code cell, the *setup cell*. It mounts your Google Drive, clones this
   repository into `MyDrive/BIOS740` the first time, installs the packages Colab lacks,
   and moves into the notebook's chapter folder. When the course publishes new
   material, the setup cell brings your Drive copy up to date (and if you edited files
   in it, it tells you how to update without losing your changes).

## Start on your own computer

```bash
git clone {repository}
cd {name}
python3 -m venv .venv && .venv/bin/pip install -r requirements.txt
.venv/bin/jupyter lab
```

## Homework

Each chapter's homework is `ChapterN/hwK_topic.ipynb`. Replace every `...` with your
code and run the `grader.check("...")` cell after each question: it runs the public
tests in `ChapterN/tests/`. The public tests give feedback; the autograder runs them
and further hidden tests (other inputs, and for trained models, data you never see).
Before you submit, restart the kernel and run all cells, then upload the notebook.

## Layout

- `ChapterN/`: lecture notebooks (`NN_topic.ipynb`, executed, with their outputs),
  homework (`hwK_topic.ipynb` and `tests/`), and the chapter's `helpers.py`.
- `bios740/`: code that several chapters share (devices, seeds, training loop, data sets).
- `requirements.txt`: what the notebooks need off Colab.
"""

EDITION_GITIGNORE = "__pycache__/\n.ipynb_checkpoints/\n.venv/\ndata/\n.OTTER_LOG\n"
#: Files at the repository root that the edition carries as they are.
EDITION_ROOT_FILES = ("LICENSE", "DATA_SOURCES.md", "requirements.txt")


def _colab_prefix(repository: str) -> str:
    owner_repo = repository.removesuffix(".git").split("github.com/", 1)[-1]
    return f"https://colab.research.google.com/github/{owner_repo}/blob/main/"


def point_to_student_repository(nb) -> None:
    """Rewrite a notebook's Colab badge and setup cell from the instructors' to the students' URL."""
    old_badge, new_badge = _colab_prefix(INSTRUCTOR_REPOSITORY), _colab_prefix(STUDENT_REPOSITORY)
    old_line = f'COURSE_REPOSITORY = "{INSTRUCTOR_REPOSITORY}"'
    new_line = f'COURSE_REPOSITORY = "{STUDENT_REPOSITORY}"'
    for cell in nb.cells:
        if cell.cell_type == "markdown" and old_badge in cell.source:
            cell.source = cell.source.replace(old_badge, new_badge)
        elif cell.cell_type == "code" and old_line in cell.source:
            cell.source = cell.source.replace(old_line, new_line)


def student_setup_cell() -> str:
    """The setup cell as the edition's notebooks carry it."""
    return nbtool.setup_cell_source().replace(
        f'COURSE_REPOSITORY = "{INSTRUCTOR_REPOSITORY}"',
        f'COURSE_REPOSITORY = "{STUDENT_REPOSITORY}"',
    )


def course_files(prefix: str = "") -> list[str]:
    """Files of the course (tracked or new, not git-ignored) whose path starts with prefix."""
    listed = subprocess.run(
        [
            "git",
            "-C",
            str(REPOSITORY_ROOT),
            "ls-files",
            "--cached",
            "--others",
            "--exclude-standard",
        ],
        capture_output=True,
        text=True,
    )
    if listed.returncode == 0:
        names = listed.stdout.split("\n")
    else:  # not a git checkout: every file but the usual clutter
        names = [
            p.relative_to(REPOSITORY_ROOT).as_posix()
            for p in REPOSITORY_ROOT.rglob("*")
            if p.is_file() and not IGNORED_NAMES(str(p.parent), [p.name])
        ]
    return sorted(
        n
        for n in names
        if n.startswith(prefix) and (REPOSITORY_ROOT / n).is_file() and "__pycache__" not in n
    )


def _write_edition_notebook(source: Path, destination: Path) -> None:
    nb = nbformat.read(source, as_version=4)
    point_to_student_repository(nb)
    destination.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, destination)


def build_student_edition(
    released: list[ReleasedHomework], output: str | Path = DEFAULT_OUTPUT / "course"
) -> Path:
    """Write the student edition: everything a student needs, nothing the instructors keep.

    Args:
        released: the released homework (from :func:`release_master`), whose student
            notebooks and public tests go into their chapter folders.
        output: the edition's folder (replaced).

    Raises:
        ValueError: two homework of one chapter have tests with the same name (they would
            share ``ChapterN/tests/``).
    """
    output = Path(output).resolve()
    shutil.rmtree(output, ignore_errors=True)
    output.mkdir(parents=True)
    for relative in course_files("Chapter"):
        path, target = REPOSITORY_ROOT / relative, output / relative
        if path.suffix == ".ipynb":
            if not nbtool.is_homework(path):  # masters stay with the instructors
                _write_edition_notebook(path, target)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, target)
    for homework in released:
        target = output / homework.master.parent.name
        _write_edition_notebook(homework.student_notebook, target / homework.master.name)
        tests = target / "tests"
        tests.mkdir(parents=True, exist_ok=True)
        for test in sorted((homework.student_notebook.parent / "tests").glob("*.py")):
            if (tests / test.name).exists():
                raise ValueError(
                    f"{homework.master.parent.name}: two homework have a test named {test.stem}; "
                    "give the questions distinct names"
                )
            shutil.copy(test, tests / test.name)
    copy_runtime_package(output / "bios740")
    for name in EDITION_ROOT_FILES:
        if (REPOSITORY_ROOT / name).is_file():
            shutil.copy(REPOSITORY_ROOT / name, output / name)
    name = STUDENT_REPOSITORY.rstrip("/").rsplit("/", 1)[-1]
    (output / "README.md").write_text(
        STUDENT_README.format(repository=STUDENT_REPOSITORY, name=name)
    )
    (output / ".gitignore").write_text(EDITION_GITIGNORE)
    return output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bios740.tools.release", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "masters", nargs="*", help="homework masters (default: all), or 'grading-env DIR'"
    )
    parser.add_argument(
        "--output", default=str(DEFAULT_OUTPUT), help="output folder (default: release/)"
    )
    args = parser.parse_args(argv)
    if args.masters[:1] == ["grading-env"]:
        if len(args.masters) != 2:
            parser.error("usage: grading-env DIR")
        build_grading_environment(args.masters[1])
        return 0
    masters = [Path(m) for m in args.masters] or homework_masters()
    if not masters:
        print("no homework masters found (Chapter*/hw*.ipynb)")
        return 1
    released = []
    for master in masters:
        released.append(release_master(master, args.output))
        print(f"{master.parent.name}/{master.name}")
        print(f"  student:    {released[-1].student_notebook}")
        print(f"  autograder: {released[-1].autograder_zip}")
    if not args.masters:  # the edition needs every homework
        edition = build_student_edition(released, Path(args.output) / "course")
        print(f"student edition ({STUDENT_REPOSITORY}): {edition}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
