"""Check that a homework's tests reject wrong work.

A homework master (otter-grader format) is parsed into ordinary cells, and for each
question its solution cells and test cells. :func:`grade_mistakes` runs the master in
a real kernel, top to bottom. After each question it grades, with the released
autograder's own test files (hidden tests included):

* the solution, which must pass every test;
* the blank the student receives (otter's own stripping of the solution),
* every plausible mistake listed for the question, and
* every correct variant listed for it (a right answer written differently),

each executed in place of the solution, which is then re-run to restore the state
for the questions that follow. A mistake counts as rejected when at least one test
case fails; a correct variant counts as accepted when every test case passes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import yaml

MARKER = re.compile(r"^#\s*(BEGIN|END)\s+(QUESTION|SOLUTION|TESTS|PROMPT)\b", re.I)
RESULT_PREFIX = "@@BIOS740-GRADE@@"


def swap(text: str, *pairs: str) -> str:
    """``text`` with each ``old`` replaced by its ``new``: how a mistakes file derives a wrong
    answer from the solution. ``pairs`` is ``old, new[, old2, new2, ...]``, applied in order.

    Raises:
        ValueError: an odd number of strings, or an ``old`` that does not occur (the solution
            changed and the mistake would silently equal it; update the mistake).
    """
    if not pairs or len(pairs) % 2:
        raise ValueError(f"swap takes (old, new) pairs of strings, got {len(pairs)} strings")
    for old, new in zip(pairs[::2], pairs[1::2], strict=True):
        if old not in text:
            raise ValueError(f"the text to replace is not in the solution any more: {old!r}")
        text = text.replace(old, new)
    return text


@dataclass
class Question:
    """One question of a master: its name, solution cells and test cells."""

    name: str
    solution_cells: list[str] = field(default_factory=list)
    test_cells: list[str] = field(default_factory=list)

    def blank(self) -> str:
        """The code the student receives in place of the solution cells."""
        from otter.assign.solutions import replace_solutions

        return "\n\n".join(
            "\n".join(replace_solutions(cell.split("\n"), "python")) for cell in self.solution_cells
        )


@dataclass
class Step:
    """A cell to run (``kind`` "code") or the end of a question's tests (``"grade"``)."""

    kind: str
    source: str = ""
    question: Question | None = None


def parse_master(path: str | Path) -> tuple[list[Step], dict[str, Question]]:
    """Split a master into the steps that run it and its questions, in order."""
    nb = nbformat.read(path, as_version=4)
    steps: list[Step] = []
    questions: dict[str, Question] = {}
    current: Question | None = None
    block = None
    for cell in nb.cells:
        source = cell.source if isinstance(cell.source, str) else "".join(cell.source)
        if cell.cell_type == "raw":
            match = MARKER.match(source.strip())
            if not match:
                continue
            edge, kind = match.group(1).upper(), match.group(2).upper()
            if kind == "QUESTION" and edge == "BEGIN":
                config = yaml.safe_load(source.split("\n", 1)[1]) if "\n" in source else None
                if not isinstance(config, dict) or "name" not in config:
                    raise ValueError(f"{path}: a BEGIN QUESTION cell needs 'name: ...'")
                current = Question(str(config["name"]))
                questions[current.name] = current
            elif kind == "QUESTION":
                current = None
            elif kind == "TESTS" and edge == "END":
                if current is None:
                    raise ValueError(f"{path}: END TESTS outside a question")
                steps.append(Step("grade", question=current))
                block = None
            else:
                block = kind if edge == "BEGIN" else None
            continue
        if cell.cell_type != "code":
            continue
        if block == "SOLUTION" and current is not None:
            current.solution_cells.append(source)
            steps.append(Step("code", source))
        elif block == "TESTS" and current is not None:
            current.test_cells.append(source)
        else:
            steps.append(Step("code", source))
    return steps, questions


class Kernel:
    """A Python kernel in a folder, with a simple run-and-capture call."""

    def __init__(self, cwd: Path, timeout: float = 600):
        from jupyter_client.manager import start_new_kernel

        self.timeout = timeout
        self.manager, self.client = start_new_kernel(kernel_name="python3", cwd=str(cwd))

    def run(self, code: str) -> tuple[bool, str, str]:
        """Run code; return (succeeded, stdout, error summary)."""
        stdout: list[str] = []
        errors: list[str] = []

        def hook(message):
            kind, content = message["msg_type"], message["content"]
            if kind == "stream" and content.get("name") == "stdout":
                stdout.append(content["text"])
            elif kind == "error":
                errors.append(f"{content['ename']}: {content['evalue']}")

        reply = self.client.execute_interactive(code, timeout=self.timeout, output_hook=hook)
        ok = reply["content"]["status"] == "ok"
        return ok, "".join(stdout), "; ".join(errors)

    def close(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)


GRADER_CODE = """
def _bios740_grade(path):
    from otter.test_files import OKTestFile
    test_file = OKTestFile.from_file(path)
    test_file.run(globals())
    return [bool(result.passed) for result in test_file.test_case_results]
"""


CORRECT_PREFIX = "correct: "


@dataclass
class GradeReport:
    """Per question: label -> one bool per test case.

    Labels are ``"solution"``, ``"blank"``, each mistake's label, and each correct
    variant's label prefixed with :data:`CORRECT_PREFIX`.
    """

    results: dict[str, dict[str, list[bool]]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def accepted(self, question: str, label: str) -> bool:
        """True if every test case of the question passed for this version."""
        return all(self.results[question][label])

    def problems(self) -> list[str]:
        """Every way the tests fail: a rejected solution or correct variant, an accepted mistake."""
        found = []
        for question, outcomes in self.results.items():
            for label, passed in outcomes.items():
                right = label == "solution" or label.startswith(CORRECT_PREFIX)
                if right and not all(passed):
                    found.append(f"{question}: the {label!r} version fails a test {passed}")
                elif not right and all(passed):
                    found.append(f"{question}: the {label!r} version passes every test")
        return found

    def summary(self) -> str:
        """One line per question: mistakes rejected and correct variants accepted."""
        lines = []
        for question, outcomes in self.results.items():
            wrong = [k for k in outcomes if k != "solution" and not k.startswith(CORRECT_PREFIX)]
            right = [k for k in outcomes if k.startswith(CORRECT_PREFIX)]
            lines.append(
                f"{question}: {sum(not all(outcomes[k]) for k in wrong)}/{len(wrong)} wrong "
                f"versions rejected (blank included), {sum(all(outcomes[k]) for k in right)}/"
                f"{len(right)} correct variants accepted"
            )
        return "\n".join(lines)


def grade_mistakes(
    master: str | Path,
    tests_dir: str | Path,
    mistakes: dict[str, dict[str, str]],
    timeout: float = 600,
    correct: dict[str, dict[str, str]] | None = None,
) -> GradeReport:
    """Grade the solution, the blank, each listed mistake and each correct variant."""
    master = Path(master).resolve()
    tests_dir = Path(tests_dir).resolve()
    steps, questions = parse_master(master)
    correct = correct or {}
    unknown = (set(mistakes) | set(correct)) - set(questions)
    if unknown:
        raise ValueError(f"mistakes name questions the master lacks: {sorted(unknown)}")
    report = GradeReport()
    kernel = Kernel(master.parent, timeout)
    try:
        ok, _, error = kernel.run(GRADER_CODE)
        if not ok:
            raise RuntimeError(f"could not set up the grader in the kernel: {error}")

        def grade(question: Question) -> list[bool]:
            test_file = tests_dir / f"{question.name}.py"
            if not test_file.is_file():
                raise FileNotFoundError(f"no autograder tests for {question.name} at {test_file}")
            ok, out, error = kernel.run(
                f"print({RESULT_PREFIX!r} + __import__('json').dumps(_bios740_grade({str(test_file)!r})))"
            )
            if not ok:
                raise RuntimeError(f"grading {question.name} crashed: {error}")
            line = next(x for x in out.splitlines() if x.startswith(RESULT_PREFIX))
            return json.loads(line[len(RESULT_PREFIX) :])

        for step in steps:
            if step.kind == "code":
                ok, _, error = kernel.run(step.source)
                if not ok:
                    raise RuntimeError(
                        f"{master.name}: a master cell failed ({error}):\n{step.source[:500]}"
                    )
                continue
            question = step.question
            outcome = report.results.setdefault(question.name, {})
            outcome["solution"] = grade(question)
            versions = {"blank": question.blank(), **mistakes.get(question.name, {})}
            versions.update(
                {CORRECT_PREFIX + k: v for k, v in correct.get(question.name, {}).items()}
            )
            for label, source in versions.items():
                ok, _, error = kernel.run(source)
                if not ok:
                    report.errors.append(f"{question.name} / {label}: {error}")
                outcome[label] = grade(question)
                for solution in question.solution_cells:  # restore for later questions
                    ok, _, error = kernel.run(solution)
                    if not ok:
                        raise RuntimeError(
                            f"re-running the solution of {question.name} failed: {error}"
                        )
    finally:
        kernel.close()
    return report


# ---------------------------------------------------------------- released notebooks

SOLUTION_BLOCK = re.compile(r"#\s*BEGIN SOLUTION.*?#\s*END SOLUTION", re.S | re.I)
TRIVIAL = {"", "pass", "return", "...", ")", "]", "}", "else:", "try:", "break", "continue"}


def _meaningful_lines(text: str) -> set[str]:
    lines = {line.strip() for line in text.split("\n")}
    return {
        line for line in lines if line not in TRIVIAL and not line.startswith("#") and len(line) > 3
    }


def secret_lines(master: str | Path) -> set[str]:
    """Solution and hidden-test lines of a master that appear nowhere else in it."""
    nb = nbformat.read(master, as_version=4)
    _, questions = parse_master(master)
    secret: set[str] = set()
    for question in questions.values():
        for cell in question.solution_cells:
            for block in SOLUTION_BLOCK.findall(cell):
                secret |= _meaningful_lines(block)
            secret |= {
                line.split("#")[0].strip()
                for line in cell.split("\n")
                if re.search(r"#\s*SOLUTION\s*$", line)
            }
        for cell in question.test_cells:
            if cell.lstrip().split("\n", 1)[0].lstrip("# ").upper().startswith("HIDDEN"):
                secret |= _meaningful_lines(cell)
    secret.discard("")
    public: set[str] = set()
    solution_or_test = {c for q in questions.values() for c in q.solution_cells + q.test_cells}
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.source not in solution_or_test:
            public |= _meaningful_lines(cell.source)
    return secret - public


def leaked_lines(master: str | Path, student_dir: str | Path) -> list[str]:
    """Secret lines of the master found in the released student notebook or its tests."""
    student_dir = Path(student_dir)
    shown: set[str] = set()
    for notebook in student_dir.glob("*.ipynb"):
        for cell in nbformat.read(notebook, as_version=4).cells:
            shown |= {line.strip() for line in cell.source.split("\n")}
    for test_file in student_dir.glob("tests/*.py"):
        text = test_file.read_text()
        shown |= {line.strip() for line in text.replace("\\n", "\n").split("\n")}
        shown |= {
            line.strip().removeprefix(">>> ").removeprefix("... ")
            for line in text.replace("\\n", "\n").split("\n")
        }
    return sorted(line for line in secret_lines(master) if line in shown)


def run_student_notebook(notebook: str | Path, timeout: int = 600) -> dict[str, str]:
    """Execute a released notebook as a student would, errors allowed.

    Returns the printed result of each ``grader.check("name")`` cell, by question.
    """
    from .nbtool import run_notebook

    notebook = Path(notebook).resolve()
    nb = run_notebook(
        nbformat.read(notebook, as_version=4), notebook.parent, timeout, allow_errors=True
    )
    checks: dict[str, str] = {}
    for cell in nb.cells:
        match = (
            re.match(r'grader\.check\("([^"]+)"\)', cell.source.strip())
            if cell.cell_type == "code"
            else None
        )
        if match:
            texts = []
            for output in cell.outputs:
                texts.append(output.get("text", ""))
                texts.append(output.get("data", {}).get("text/plain", ""))
                texts.append(output.get("evalue", ""))
            checks[match.group(1)] = "".join(texts)
    return checks


def check_passed(output: str) -> bool:
    """Whether a ``grader.check`` output reports that every test case passed."""
    return "All test cases passed" in output
