"""The course's notebook tool: create, build, stamp, execute and check notebooks.

Usage (from the repository root)::

    python -m bios740.tools.nbtool new Chapter2/03_losses.ipynb --title "Loss functions"
    python -m bios740.tools.nbtool build drafts/03_losses.py Chapter2/03_losses.ipynb
    python -m bios740.tools.nbtool stamp            # rewrite setup cell and badge everywhere
    python -m bios740.tools.nbtool execute Chapter2/03_losses.ipynb
    python -m bios740.tools.nbtool check            # report convention violations
    python -m bios740.tools.nbtool sweep            # every notebook with SEED 0-4 (make test-seeds)

The conventions are described in ``docs/AUTHORING.md``; :func:`check_notebook` is the
single implementation the test suite uses.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

TOOLS_DIR = Path(__file__).resolve().parent
PACKAGE_DIR = TOOLS_DIR.parent
REPOSITORY_ROOT = PACKAGE_DIR.parent
SETUP_CELL_FILE = TOOLS_DIR / "setup_cell.py"
MAX_BYTES = 1_000_000
MAX_OUTPUT_LINES = 60
DEFAULT_BUDGET_S = 120
BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"
NOTEBOOK_NAME = re.compile(r"^(\d\d_[a-z0-9_]+|hw\d+_[a-z0-9_]+)\.ipynb$")
USER_PATH = re.compile(
    r"(/home/[A-Za-z]|/Users/[A-Za-z]|/root/|/work/main|[A-Za-z]:\\\\?Users|site-packages|/tmp/)"
)
ASSIGNMENT_CONFIG = """# ASSIGNMENT CONFIG
init_cell: false
check_all_cell: false
export_cell: false
run_tests: false
solutions_pdf: false
generate: true
# What the autograder image installs (ranges that hold on Colab and on otter's image);
# add every package the notebook and the chapter helpers import.
requirements:
  - torch>=2.5
  - numpy>=1.26
  - scikit-learn>=1.4
  - matplotlib>=3.8
  - tqdm>=4.66
# What grading needs next to the notebook; "bios740" is the course package without its
# instructor tools (bios740/tools/release.py copies it here before otter reads this).
files:
  - helpers.py
  - bios740
tests:
  files: true"""
GRADER_CELL = """import otter

grader = otter.Notebook(tests_dir="tests")"""
SETUP_CELL_METADATA = {"tags": ["setup"], "jupyter": {"source_hidden": True}}
MAX_SETUP_LINES = 15
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def setup_cell_source() -> str:
    """The one true source of the setup cell (``bios740/tools/setup_cell.py``).

    Raises:
        ValueError: the source grew past ``MAX_SETUP_LINES`` lines; move code into
            ``bios740/colab.py`` instead.
    """
    source = SETUP_CELL_FILE.read_text(encoding="utf-8").rstrip("\n")
    if source.count("\n") + 1 > MAX_SETUP_LINES:
        raise ValueError(
            f"{SETUP_CELL_FILE} has {source.count(chr(10)) + 1} lines; the setup cell may have "
            f"at most {MAX_SETUP_LINES}: move the work into bios740/colab.py"
        )
    return source


def repository_url() -> str:
    """The course repository URL, read from the setup cell (its only home)."""
    found = re.search(r'^COURSE_REPOSITORY = "([^"]+)"', setup_cell_source(), flags=re.M)
    if not found:
        raise RuntimeError(f"COURSE_REPOSITORY is missing from {SETUP_CELL_FILE}")
    return found.group(1).removesuffix(".git")


def relative_path(path: str | Path) -> str:
    """A notebook's path relative to the repository root, with forward slashes."""
    path = Path(path).resolve()
    try:
        return path.relative_to(REPOSITORY_ROOT).as_posix()
    except ValueError as error:
        raise ValueError(f"{path} is not inside the course repository {REPOSITORY_ROOT}") from error


def colab_url(path: str | Path) -> str:
    """The "Open in Colab" address of a notebook in the course repository."""
    owner_repo = repository_url().split("github.com/", 1)[-1]
    return f"https://colab.research.google.com/github/{owner_repo}/blob/main/{relative_path(path)}"


def badge_markdown(path: str | Path) -> str:
    """The badge line that opens this notebook in Colab."""
    return f"[![Open In Colab]({BADGE_IMAGE})]({colab_url(path)})"


def is_homework(path: str | Path) -> bool:
    """Homework masters are named ``hwN_topic.ipynb``."""
    return Path(path).name.startswith("hw")


def _source(cell) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def _first_content_index(nb) -> int:
    """Index of the first cell that is not a raw (otter) cell."""
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "raw":
            return index
    return len(nb.cells)


def new_setup_cell():
    """The setup cell, collapsed in JupyterLab (Colab collapses it by its ``@title`` form)."""
    cell = nbformat.v4.new_code_cell(setup_cell_source())
    cell.metadata.update(json.loads(json.dumps(SETUP_CELL_METADATA)))
    return cell


def _is_setup_cell(cell) -> bool:
    return cell.cell_type == "code" and (
        "setup" in _tags(cell) or "COURSE_REPOSITORY" in _source(cell)
    )


def stamp(nb, path: str | Path) -> bool:
    """Put the current badge into the first cell and the setup cell after it.

    Returns True if the notebook changed. The title cell must already exist.
    """
    changed = False
    first = _first_content_index(nb)
    if first >= len(nb.cells) or nb.cells[first].cell_type != "markdown":
        raise ValueError(f"{path}: the first cell must be the markdown title cell")
    title = nb.cells[first]
    lines = _source(title).split("\n")
    badge = badge_markdown(path)
    kept = [line for line in lines if BADGE_IMAGE not in line]
    new_source = "\n".join([badge, *kept]) if kept and kept[0] else "\n".join([badge, *kept[1:]])
    if _source(title) != new_source:
        title.source = new_source
        changed = True
    setup_index = first + 1
    has_setup = setup_index < len(nb.cells) and _is_setup_cell(nb.cells[setup_index])
    if not has_setup:
        nb.cells.insert(setup_index, new_setup_cell())
        changed = True
    else:
        cell = nb.cells[setup_index]
        if _source(cell) != setup_cell_source():
            cell.source = setup_cell_source()
            changed = True
        for key, value in SETUP_CELL_METADATA.items():
            if cell.metadata.get(key) != value:
                cell.metadata[key] = json.loads(json.dumps(value))
                changed = True
    if is_homework(path) and not any(
        c.cell_type == "raw" and _source(c).startswith("# ASSIGNMENT CONFIG") for c in nb.cells
    ):
        nb.cells.insert(setup_index + 1, nbformat.v4.new_raw_cell(ASSIGNMENT_CONFIG))
        changed = True
    if is_homework(path) and not any("otter.Notebook(" in _source(c) for c in nb.cells):
        after = next((i for i, c in enumerate(nb.cells) if "parameters" in _tags(c)), setup_index)
        nb.cells.insert(after + 1, nbformat.v4.new_code_cell(GRADER_CELL))
        changed = True
    if nb.metadata.get("kernelspec", {}).get("name") != "python3":
        nb.metadata["kernelspec"] = dict(KERNELSPEC)
        changed = True
    return changed


# ---------------------------------------------------------------- conventions


@dataclass(frozen=True)
class Violation:
    """One broken convention in one notebook."""

    notebook: str
    convention: str
    message: str

    def __str__(self) -> str:
        return f"{self.notebook}: [{self.convention}] {self.message}"


def _list_items(text: str) -> int:
    return len(re.findall(r"^\s*(?:\d+[.)]|[-*])\s+\S", text, flags=re.M))


def _output_text(output) -> str:
    if output.get("output_type") == "stream":
        return "" if output.get("name") == "stderr" else _source({"source": output.get("text", "")})
    data = output.get("data", {})
    text = data.get("text/plain", "")
    return "".join(text) if isinstance(text, list) else text


def check_notebook(path: str | Path, as_path: str | None = None) -> list[Violation]:
    """Check one notebook against every course convention; return the violations.

    ``as_path`` is the notebook's path in the repository, for checking a copy kept
    elsewhere (the badge must point to the repository path).
    """
    path = Path(path)
    name = as_path or relative_path(path)
    found: list[Violation] = []

    def fail(convention: str, message: str) -> None:
        found.append(Violation(name, convention, message))

    if not NOTEBOOK_NAME.match(Path(name).name):
        fail(
            "file-name",
            "name it NN_topic.ipynb or hwN_topic.ipynb: lower case, digits, underscores, no spaces",
        )
    size = path.stat().st_size
    if size > MAX_BYTES:
        fail("size", f"{size / 1e6:.2f} MB is over 1 MB; shrink figures or printed output")
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as error:  # a notebook that does not parse breaks every check
        fail("format", f"not a valid notebook: {error}")
        return found
    if nb.metadata.get("kernelspec", {}).get("name") != "python3":
        fail("kernelspec", "the kernelspec must be python3 (run `nbtool stamp`)")

    first = _first_content_index(nb)
    title = nb.cells[first] if first < len(nb.cells) else None
    if (
        title is None
        or title.cell_type != "markdown"
        or not _source(title).lstrip().startswith(("# ", "[![Open In Colab]"))
    ):
        fail(
            "title-cell", "the first cell must be markdown starting with the badge and a '# Title'"
        )
    else:
        text = _source(title)
        if not re.search(r"^# \S", text, flags=re.M):
            fail("title-cell", "the first cell needs a '# Title' heading")
        if "learning goals" not in text.lower():
            fail("title-cell", "the first cell must list the learning goals ('Learning goals')")
        if not re.search(r"run time:?\**:?\s*about\s+\d+", text, flags=re.I):
            fail(
                "title-cell",
                "the first cell must state the CPU run time "
                "('**Run time:** about N s on a 2-core CPU')",
            )
        expected = colab_url(REPOSITORY_ROOT / name)
        urls = re.findall(r"\(https://colab\.research\.google\.com/github/[^)\s]+\)", text)
        if not urls:
            fail(
                "badge",
                f"no 'Open in Colab' badge in the first cell; expected a link to {expected}",
            )
        elif any(url[1:-1] != expected for url in urls):
            fail("badge", f"the Colab badge points to {urls[0][1:-1]}, not {expected}")

    setup_index = first + 1
    if setup_index >= len(nb.cells) or nb.cells[setup_index].cell_type != "code":
        fail("setup-cell", "the cell after the title must be the course setup cell")
    elif _source(nb.cells[setup_index]) != setup_cell_source():
        fail(
            "setup-cell",
            "the setup cell differs from bios740/tools/setup_cell.py; run "
            "`python -m bios740.tools.nbtool stamp` instead of editing it by hand",
        )
    elif not nb.cells[setup_index].metadata.get("jupyter", {}).get("source_hidden"):
        fail(
            "setup-cell",
            "the setup cell must be collapsed (metadata jupyter.source_hidden); run "
            "`python -m bios740.tools.nbtool stamp`",
        )

    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    parameters = [c for c in code_cells if "parameters" in _tags(c)]
    if len(parameters) != 1:
        fail(
            "parameters",
            f"exactly one code cell must be tagged 'parameters', found {len(parameters)}",
        )
    elif code_cells.index(parameters[0]) != 1:
        fail("parameters", "the 'parameters' cell must be the first code cell after the setup cell")

    if is_homework(name):
        if not any(
            c.cell_type == "raw" and _source(c).startswith("# ASSIGNMENT CONFIG") for c in nb.cells
        ):
            fail("homework", "a homework master needs a '# ASSIGNMENT CONFIG' raw cell")
        if not any("otter.Notebook(" in _source(c) for c in code_cells):
            fail("homework", "a homework master needs the grader cell (otter.Notebook(...))")
    else:
        last_code = max((i for i, c in enumerate(nb.cells) if c.cell_type == "code"), default=-1)
        tail = "\n".join(_source(c) for c in nb.cells[last_code + 1 :] if c.cell_type == "markdown")
        exercises = re.search(r"^##\s+Exercises\s*$(.*?)(?=^##\s|\Z)", tail, flags=re.M | re.S)
        references = re.search(r"^##\s+References\s*$(.*?)(?=^##\s|\Z)", tail, flags=re.M | re.S)
        if not exercises or _list_items(exercises.group(1)) < 2:
            fail(
                "exercises",
                "a lecture ends with a '## Exercises' markdown section with at least two items",
            )
        if not references or _list_items(references.group(1)) < 1:
            fail(
                "references",
                "a lecture ends with a '## References' markdown section listing its sources",
            )

    executed = [c for c in code_cells if _source(c).strip()]
    counts = [c.get("execution_count") for c in executed]
    if counts != list(range(1, len(executed) + 1)):
        fail(
            "execution-order",
            f"code cells must be executed top to bottom in one kernel "
            f"(execution counts 1..{len(executed)}), found {counts[:12]}; run `nbtool execute`",
        )
    if len(executed) != len(code_cells):
        fail("execution-order", "remove empty code cells")

    for index, cell in enumerate(nb.cells):
        source = _source(cell)
        if USER_PATH.search(source):
            fail(
                "paths",
                f"cell {index} has an absolute or user-specific path: "
                f"{USER_PATH.search(source).group(0)!r}",
            )
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                fail("errors", f"cell {index} has a stored error ({output.get('ename')})")
            text = _output_text(output)
            if USER_PATH.search(text):
                fail(
                    "paths",
                    f"cell {index} output shows an absolute or user-specific path: "
                    f"{USER_PATH.search(text).group(0)!r}",
                )
        if source.startswith("# NBVAL_CHECK_OUTPUT") and any(
            "application/vnd.jupyter.widget-view+json" in o.get("data", {})
            for o in cell.get("outputs", [])
        ):
            fail(
                "checked-output",
                f"cell {index} is marked NBVAL_CHECK_OUTPUT but shows a progress bar, whose "
                "text differs from run to run: drop the marker or the bar",
            )
        printed = sum(_output_text(o).count("\n") for o in cell.get("outputs", []))
        if printed > MAX_OUTPUT_LINES:
            fail(
                "output-length", f"cell {index} prints {printed} lines (at most {MAX_OUTPUT_LINES})"
            )
    return found


def budget_seconds(path: str | Path) -> float:
    """The notebook's CPU time budget: metadata ``bios740.budget_s`` or 120 s."""
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    return float(nb.get("metadata", {}).get("bios740", {}).get("budget_s", DEFAULT_BUDGET_S))


def course_notebooks(root: Path = REPOSITORY_ROOT) -> list[Path]:
    """Every notebook in the chapter folders, sorted."""
    return sorted(p for p in root.glob("Chapter*/*.ipynb") if ".ipynb_checkpoints" not in p.parts)


# ---------------------------------------------------------------- building


def notebook_from_script(text: str):
    """Convert a percent-format script (``# %%`` cells, as jupytext writes them) to a notebook.

    Raises:
        ValueError: the script has no ``# %%`` cell marker.
    """
    import jupytext

    if not re.search(r"^# %%", text, flags=re.M):
        raise ValueError("the script must use '# %%' cell markers (jupytext's percent format)")
    nb = jupytext.reads(text, fmt="py:percent")
    nb.metadata.pop("jupytext", None)
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells = [c for c in nb.cells if c.cell_type != "code" or c.source.strip()]
    for cell in nb.cells:
        cell.metadata = {k: v for k, v in cell.metadata.items() if k == "tags"}
    return nbformat.from_dict(nb)


def run_notebook(nb, folder: str | Path, timeout: int = 600, allow_errors: bool = False):
    """Execute an in-memory notebook top to bottom in a fresh kernel started in ``folder``."""
    from nbclient import NotebookClient

    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        allow_errors=allow_errors,
        resources={"metadata": {"path": str(folder)}},
    )
    client.execute()
    return nb


def execute(path: str | Path, timeout: int = 600):
    """Run a notebook top to bottom in a fresh kernel in its own folder and save it."""
    path = Path(path).resolve()
    nb = nbformat.read(path, as_version=4)
    try:
        run_notebook(nb, path.parent, timeout)
    finally:
        for cell in nb.cells:
            cell.metadata.pop("execution", None)
        show_final_progress_bars(nb)
        if not _has_widget_outputs(nb):
            nb.metadata.pop("widgets", None)
        nbformat.write(nb, path)
    return nb


def _widget_text(widget_id: str, states: dict) -> str:
    """Text of a widget from its saved state: HTML labels and progress bars, recursively."""
    widget = states.get(widget_id, {})
    state = widget.get("state", {})
    kind = widget.get("model_name", "")
    if kind == "HBoxModel":
        return "".join(
            _widget_text(child.removeprefix("IPY_MODEL_"), states)
            for child in state.get("children", [])
        )
    if kind in ("HTMLModel", "LabelModel"):
        return re.sub(r"<[^>]+>|&nbsp;", " ", str(state.get("value", ""))).replace("  ", " ")
    if kind in ("FloatProgressModel", "IntProgressModel"):
        high = float(state.get("max", 1) or 1)
        filled = round(10 * float(state.get("value", 0)) / high)
        return "|" + "█" * filled + " " * (10 - filled) + "|"
    return ""


def show_final_progress_bars(nb) -> int:
    """Store each progress bar's text in its final state (GitHub shows only the text).

    A tqdm bar in a notebook is a widget whose plain-text fallback is written once, when
    the bar is created ("0%| | 0/800"). Readers on GitHub or nbviewer see that text, so
    every bar looks frozen at zero. The final state is in the notebook's saved widget
    state; this writes it into the text fallback. Returns the number of bars rewritten.
    """
    states = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
    states = states.get("state", {})
    rewritten = 0
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            view = output.get("data", {}).get("application/vnd.jupyter.widget-view+json")
            if not view or view.get("model_id") not in states:
                continue
            text = _widget_text(view["model_id"], states).strip()
            if text:
                output["data"]["text/plain"] = text
                rewritten += 1
    return rewritten


def _has_widget_outputs(nb) -> bool:
    return any(
        "application/vnd.jupyter.widget-view+json" in o.get("data", {})
        for c in nb.cells
        for o in c.get("outputs", [])
    )


TEMPLATE = """# %% [markdown]
# # {title}
#
# **Learning goals.** After this notebook you can
# 1. ...
# 2. ...
#
# **Run time:** about 30 s on a 2-core CPU (no GPU needed).

# %% tags=["parameters"]
SEED = 0
DEVICE = None  # None picks CUDA, then Apple MPS, then the CPU
EPOCHS = 5  # raise on a GPU

# %%
from bios740.device import get_device
from bios740.seed import seed_everything

seed_everything(SEED)
device = get_device(DEVICE)

# %% [markdown]
# ## Exercises
#
# 1. ...
# 2. ...
#
# ## References
#
# - ...
"""


def new_notebook(path: str | Path, title: str) -> Path:
    """Create a notebook from the course template (title, badge, setup, parameters)."""
    path = Path(path)
    if path.exists():
        raise FileExistsError(f"{path} exists; edit it instead")
    if not NOTEBOOK_NAME.match(path.name):
        raise ValueError(f"{path.name}: name it NN_topic.ipynb or hwN_topic.ipynb")
    nb = notebook_from_script(TEMPLATE.format(title=title))
    stamp(nb, path)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def build(script: str | Path, path: str | Path, run: bool = True) -> list[Violation]:
    """Convert a draft script into a stamped, executed notebook; return violations."""
    path = Path(path)
    nb = notebook_from_script(Path(script).read_text(encoding="utf-8"))
    stamp(nb, path)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    if run:
        execute(path)
    return check_notebook(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bios740.tools.nbtool", description=__doc__.split("\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    new = commands.add_parser("new", help="create a notebook from the template")
    new.add_argument("path")
    new.add_argument("--title", required=True)
    build_cmd = commands.add_parser("build", help="convert a draft script, execute and check it")
    build_cmd.add_argument("script")
    build_cmd.add_argument("path")
    build_cmd.add_argument("--no-run", action="store_true", help="convert and stamp only")
    sweep_cmd = commands.add_parser(
        "sweep",
        help="run notebooks with SEED 0-4 and other thread counts (offline: make test-seeds)",
    )
    sweep_cmd.add_argument("paths", nargs="*", help="notebooks (default: every course notebook)")
    sweep_cmd.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    sweep_cmd.add_argument("--jobs", type=int, default=2, help="notebooks at once (default 2)")
    sweep_cmd.add_argument("--budget", type=float, default=90.0, help="seconds per run (90)")
    sweep_cmd.add_argument(
        "--keep", type=Path, default=None, help="folder to keep the executed notebooks in"
    )
    for name, text in (
        ("stamp", "rewrite setup cell and badge"),
        ("check", "report violations"),
        ("execute", "re-run notebooks in place"),
    ):
        sub = commands.add_parser(name, help=text)
        sub.add_argument("paths", nargs="*", help="notebooks (default: every course notebook)")
    args = parser.parse_args(argv)

    if args.command == "new":
        print(f"created {new_notebook(args.path, args.title)}")
        return 0
    if args.command == "build":
        violations = build(args.script, args.path, run=not args.no_run)
        for violation in violations:
            print(violation)
        print(f"built {args.path}: {len(violations)} convention violations")
        return 1 if violations else 0
    paths = [Path(p) for p in args.paths] or course_notebooks()
    if args.command == "sweep":
        from bios740.tools import sweep

        runs = sweep.sweep(
            paths, tuple(args.seeds), jobs=args.jobs, budget_s=args.budget, keep=args.keep
        )
        sweep.write_report(runs, REPOSITORY_ROOT / "test-reports" / "seeds.json")
        print(sweep.report(runs))
        return 0 if all(run.passed for run in runs) else 1
    status = 0
    for path in paths:
        if args.command == "stamp":
            nb = nbformat.read(path, as_version=4)
            if stamp(nb, path):
                nbformat.write(nb, path)
                print(f"stamped {path}")
        elif args.command == "execute":
            execute(path)
            print(f"executed {path}")
        else:
            violations = check_notebook(path)
            for violation in violations:
                print(violation)
            status |= bool(violations)
    return status


if __name__ == "__main__":
    sys.exit(main())
