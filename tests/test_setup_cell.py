"""The course setup cell, run as it runs in a notebook.

Locally it must only touch ``sys.path`` and be fast. On Colab it must mount Drive,
clone the course once, install only what is missing and move into the chapter; a
second run must repeat none of that. Colab, git and pip are replaced by stand-ins
that record what the cell asks of them.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import time
import types
from pathlib import Path

from bios740.nbtool import repository_url, setup_cell_source

ROOT = Path(__file__).resolve().parent.parent


def run_cell(namespace: dict | None = None) -> dict:
    namespace = {} if namespace is None else namespace
    exec(compile(setup_cell_source(), "<setup cell>", "exec"), namespace)
    return namespace


def test_local_run_only_sets_sys_path_and_is_fast(monkeypatch):
    monkeypatch.chdir(ROOT / "Chapter1")
    monkeypatch.setattr(
        sys, "path", [p for p in sys.path if p not in (str(ROOT), str(ROOT / "Chapter1"))]
    )
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: calls.append(a))
    start = time.perf_counter()
    namespace = run_cell()
    elapsed = time.perf_counter() - start
    assert elapsed < 0.5, f"the setup cell took {elapsed:.2f} s locally"
    assert calls == [], "the setup cell must not run commands outside Colab"
    assert namespace["COURSE_ROOT"] == ROOT and namespace["CHAPTER_DIR"] == ROOT / "Chapter1"
    assert sys.path[:2] == [str(ROOT), str(ROOT / "Chapter1")]
    run_cell()  # a second run adds nothing twice
    assert sys.path.count(str(ROOT)) == 1


def test_local_run_outside_a_chapter(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    namespace = run_cell()
    assert namespace["COURSE_ROOT"] is None and namespace["CHAPTER_DIR"] is None


class FakeColab:
    """Stand-ins for google.colab, git and pip that record every action."""

    def __init__(
        self,
        tmp_path: Path,
        monkeypatch,
        notebook_path="Chapter3/03_classifying_brain_slices.ipynb",
    ):
        self.actions: list[tuple] = []
        self.drive_root = tmp_path / "drive"
        self.installed = {"torch", "numpy"}
        self.notebook_path = notebook_path
        google = types.ModuleType("google")
        colab = types.ModuleType("google.colab")
        drive = types.ModuleType("google.colab.drive")
        message = types.ModuleType("google.colab._message")
        drive.mount = self.mount
        message.blocking_request = self.blocking_request
        colab.drive, colab._message, google.colab = drive, message, colab
        for name, module in (
            ("google", google),
            ("google.colab", colab),
            ("google.colab.drive", drive),
            ("google.colab._message", message),
        ):
            monkeypatch.setitem(sys.modules, name, module)
        monkeypatch.setenv("BIOS740_DRIVE", str(self.drive_root))
        monkeypatch.setattr(subprocess, "run", self.run)
        real_find_spec = importlib.util.find_spec
        monkeypatch.setattr(
            importlib.util,
            "find_spec",
            lambda name, *a: (
                (object() if name in self.installed else None)
                if name in self.known
                else real_find_spec(name, *a)
            ),
        )
        self.known = {"torch", "numpy", "nilearn", "neurokit2", "wfdb", "pydicom", "otter"}
        monkeypatch.chdir(tmp_path)
        monkeypatch.setattr(sys, "path", list(sys.path))

    def mount(self, mount_point):
        self.actions.append(("mount", mount_point))
        (Path(mount_point) / "MyDrive").mkdir(parents=True)

    def blocking_request(self, request, timeout_sec=None):
        badge = f"[![Open In Colab](x.svg)](https://colab.research.google.com/github/o/r/blob/main/{self.notebook_path})"
        return {"ipynb": {"cells": [{"cell_type": "markdown", "source": [badge, "\n# Title"]}]}}

    def run(self, command, check=False, **kwargs):
        if command[:2] == ["git", "clone"]:
            self.actions.append(("git clone", command[-2], command[-1]))
            target = Path(command[-1])
            (target / "bios740").mkdir(parents=True)
            (target / "bios740" / "setup_cell.py").write_text("# stand-in\n")
            for chapter in ("Chapter1", "Chapter3"):
                (target / chapter).mkdir()
        elif command[1:4] == ["-m", "pip", "install"]:
            packages = [c for c in command[4:] if not c.startswith("-")]
            self.actions.append(("pip install", *packages))
            self.installed.update(
                p.split(">")[0].split("=")[0].replace("-grader", "") for p in packages
            )
        else:
            raise AssertionError(f"unexpected command {command}")
        return subprocess.CompletedProcess(command, 0)


def test_colab_first_run_mounts_clones_installs_and_enters_the_chapter(tmp_path, monkeypatch):
    colab = FakeColab(tmp_path, monkeypatch)
    namespace = run_cell()
    course = colab.drive_root / "MyDrive" / "BIOS740"
    repository = next(
        line for line in setup_cell_source().splitlines() if line.startswith("COURSE_REPOSITORY")
    )
    assert colab.actions == [
        ("mount", str(colab.drive_root)),
        ("git clone", json.loads(repository.split("=", 1)[1]), str(course)),
        (
            "pip install",
            "nilearn>=0.10.3",
            "neurokit2>=0.2.7",
            "wfdb>=4.1",
            "pydicom>=2.4",
            "otter-grader>=6.0",
        ),
    ]
    assert Path.cwd() == course / "Chapter3"
    assert namespace["COURSE_ROOT"] == course and namespace["CHAPTER_DIR"] == course / "Chapter3"
    assert sys.path[:2] == [str(course), str(course / "Chapter3")]

    colab.actions.clear()
    run_cell()  # the second run repeats nothing
    assert colab.actions == []
    assert Path.cwd() == course / "Chapter3"


def test_colab_with_drive_mounted_finds_a_copy_under_another_name(tmp_path, monkeypatch):
    colab = FakeColab(tmp_path, monkeypatch, notebook_path="Chapter1/01_tensors.ipynb")
    colab.installed.update({"nilearn", "neurokit2", "wfdb", "pydicom", "otter"})
    existing = colab.drive_root / "MyDrive" / "courses-2026"
    (existing / "bios740").mkdir(parents=True)
    (existing / "bios740" / "setup_cell.py").write_text("# copy\n")
    (existing / "Chapter1").mkdir()
    run_cell()
    assert colab.actions == []  # Drive already mounted, course found, nothing missing
    assert Path.cwd() == existing / "Chapter1"


def test_colab_without_a_known_chapter_says_so(tmp_path, monkeypatch, capsys):
    colab = FakeColab(tmp_path, monkeypatch, notebook_path="notes.ipynb")
    colab.installed.update({"nilearn", "neurokit2", "wfdb", "pydicom", "otter"})
    monkeypatch.delenv("BIOS740_CHAPTER", raising=False)
    namespace = run_cell()
    assert namespace["CHAPTER_DIR"] is None
    assert "BIOS740_CHAPTER" in capsys.readouterr().out


def test_repository_url_is_written_in_exactly_one_place():
    """The URL lives in bios740/setup_cell.py; the tool stamps it into notebooks."""
    owner_and_name = repository_url().split("github.com/", 1)[1]
    hits = [
        path.relative_to(ROOT).as_posix()
        for path in ROOT.rglob("*")
        if path.is_file()
        and path.suffix != ".ipynb"
        and not {".venv", "release", ".git", "data", "test-reports"}
        & set(path.relative_to(ROOT).parts)
        and owner_and_name in path.read_text(errors="ignore")
    ]
    assert hits == ["bios740/setup_cell.py"]
