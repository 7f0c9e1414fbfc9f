"""The repository's layout rules (docs/AUTHORING.md, "Where code and its test go").

- No notebook, helper or test imports from another chapter's folder: code two chapters
  need lives in ``bios740``.
- Chapter helpers stay small (about 300 lines) unless their docstring says why.
- One training loop: no chapter defines its own ``train_classifier``.
- Data-set modules live in ``bios740/datasets``, tooling in ``bios740/tools``.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
CHAPTERS = sorted(p for p in ROOT.glob("Chapter*") if p.is_dir())
HELPERS_LINE_LIMIT = 330  # "about 300"
OTHER_CHAPTER = re.compile(r"""(?:["'/\\]|\.\.)(Chapter\d+)(?:["'/\\])""")


def _code_of(path: Path) -> str:
    if path.suffix == ".ipynb":
        nb = nbformat.read(path, as_version=4)
        return "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    return path.read_text(encoding="utf-8")


def _python_sources():
    for chapter in CHAPTERS:
        yield from sorted(chapter.glob("*.ipynb"))
        yield from sorted(chapter.glob("*.py"))


@pytest.mark.parametrize(
    "path", list(_python_sources()), ids=lambda p: p.relative_to(ROOT).as_posix()
)
def test_no_code_reaches_into_another_chapter(path):
    own = path.parent.name
    code = _code_of(path)
    touched = {
        match.group(1)
        for line in code.splitlines()
        if ("sys.path" in line or "import" in line or "spec_from_file_location" in line)
        for match in OTHER_CHAPTER.finditer(line)
    }
    assert touched <= {own}, (
        f"{path.relative_to(ROOT)} reaches into {sorted(touched - {own})}: move the shared code "
        "into bios740 instead"
    )


def test_tests_load_chapter_helpers_only_through_the_loader():
    offenders = [
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "tests").rglob("*.py")
        if re.search(r"sys\.path\.(insert|append)\([^)]*Chapter\d+", p.read_text(encoding="utf-8"))
    ]
    assert offenders == [], f"use chapter_modules.load_helpers(N) instead: {offenders}"


@pytest.mark.parametrize(
    "helpers",
    [c / "helpers.py" for c in CHAPTERS if (c / "helpers.py").is_file()],
    ids=lambda p: p.parent.name,
)
def test_chapter_helpers_stay_small(helpers):
    lines = helpers.read_text(encoding="utf-8").count("\n")
    docstring = re.match(r'\s*(?:"""|\'\'\')(.*?)(?:"""|\'\'\')', helpers.read_text(), flags=re.S)
    explained = docstring is not None and re.search(
        r"\b(longer|lines)\b.*\bbecause\b|\bbecause\b.*\b(longer|lines)\b", docstring.group(1), re.S
    )
    assert lines <= HELPERS_LINE_LIMIT or explained, (
        f"{helpers.relative_to(ROOT)} has {lines} lines; keep chapter helpers to about 300 "
        "(move shared code to bios740, use the library) or say in its docstring why it is longer"
    )


def test_one_training_loop():
    defined = [
        p.relative_to(ROOT).as_posix()
        for chapter in CHAPTERS
        for p in chapter.glob("*.py")
        if re.search(r"^def train_classifier\b", p.read_text(encoding="utf-8"), flags=re.M)
    ]
    assert defined == [], f"train with bios740.training.fit instead: {defined}"


def test_package_roles():
    package = ROOT / "bios740"
    top_level = {p.stem for p in package.glob("*.py")}
    assert not top_level & {
        "brain_slices",
        "ecg",
        "medmnist",
        "mitbih",
        "nbtool",
        "homework",
        "release",
    }
    assert (package / "datasets" / "__init__.py").is_file() and (
        package / "tools" / "__init__.py"
    ).is_file()
    assert (package / "tools" / "setup_cell.py").is_file()
