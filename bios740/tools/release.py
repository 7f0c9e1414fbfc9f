"""Build the student homework and the Gradescope autograders (``make release``).

For every homework master ``ChapterN/hwK_topic.ipynb`` this runs ``otter assign`` and
writes::

    release/student/ChapterN/hwK_topic/      the student notebook, public tests, helpers.py
    release/autograder/ChapterN/hwK_topic-autograder.zip   upload to Gradescope
    release/build/ChapterN/hwK_topic/        otter's full output (hidden tests included)

``release/`` is git-ignored: it is generated, never committed.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUTPUT = REPOSITORY_ROOT / "release"


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
    completed = subprocess.run(
        [sys.executable, "-m", "otter", "assign", "--no-pdfs", master.name, str(build)],
        cwd=master.parent,
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bios740.tools.release", description=__doc__.split("\n")[0]
    )
    parser.add_argument("masters", nargs="*", help="homework masters (default: all)")
    parser.add_argument(
        "--output", default=str(DEFAULT_OUTPUT), help="output folder (default: release/)"
    )
    args = parser.parse_args(argv)
    masters = [Path(m) for m in args.masters] or homework_masters()
    if not masters:
        print("no homework masters found (Chapter*/hw*.ipynb)")
        return 1
    for master in masters:
        released = release_master(master, args.output)
        print(f"{master.parent.name}/{master.name}")
        print(f"  student:    {released.student_notebook}")
        print(f"  autograder: {released.autograder_zip}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
