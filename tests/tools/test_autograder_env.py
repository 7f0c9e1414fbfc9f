"""The autograder zips run on their own: graded with ``otter run`` in a clean environment.

The environment (``.venv/grading``) holds nothing but what the zips' ``environment.yml``
lists for pip (otter-grader and each master's ``requirements``); ``make`` builds it once,
online, next to ``.venv`` (``make grading-env``). Here, offline, each homework's zip grades
two submissions built from its released student notebook:

* the blank student notebook: zero on every question;
* every answer cell filled with the master's solution except one, which holds a plausible
  mistake: full marks on every other question and exactly that question's points lost.

The second run is also the proof that the solution scores full marks in the clean
environment, question by question, except for the one question that holds the mistake;
that question's solution passes the same test files in
``tests/tools/test_homework.py``. (A separate full-solution run would execute every
homework's training a third time, about five minutes of the suite's CI time.)

The zip alone must suffice: the submission folder holds only the notebook, so
``helpers.py`` and the course package come from the zip's ``files/``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import zipfile
from pathlib import Path

import nbformat
import pytest

from bios740.tools import homework, release

ROOT = Path(__file__).resolve().parents[2]
GRADING_ENV = ROOT / ".venv" / "grading"
MASTERS = release.homework_masters()
IDS = [f"{m.parent.name}_{m.stem}" for m in MASTERS]

#: One mistake per homework (from its tests/homework file) that fails every test of its
#: question, so that grading must take away exactly that question's points.
ONE_MISTAKE = {
    "hw1_logistic_softmax": ("q3_log_softmax", "one global maximum instead of one per row"),
    "hw2_mlp_backprop": ("q8_train", "velocities reset for every batch"),
    "hw3_convolution_resnet": (
        "q1_conv2d",
        "output width from the kernel height (square kernels only)",
    ),
    "hw4_rnn_lstm_by_hand": ("q5_classifier", "always predicts the majority class"),
    "hw5_graph_networks": ("q6_solubility_model", "always predicts the training mean"),
    "hw6_vae_gan": ("q6_discriminator_step", "nothing detached"),
    "hw7_attention_transformer": (
        "q2_causal_mask",
        "lets a position see the next one (tril(diagonal=1))",
    ),
    "hw8_text_mining": ("q4_align_labels", "B- on every piece of a B- word"),
    "hw9_detection": ("q1_box_iou", "(x, y, w, h) boxes treated as (x1, y1, x2, y2)"),
    "hw10_segmentation_registration": ("q2_jacobian", "det of grad u instead of I + grad u"),
    "hw11_epidemic_models": ("q5_rolling_forecast", "random train/test split of the time points"),
    "hw12_diffusion": ("q4_ddim_step", "eta ignored: always eta = 1"),
}


def grading_python() -> Path:
    problem = release.grading_environment_status(GRADING_ENV)
    if problem:
        pytest.fail(
            f"{problem}. Build it once, online: `make grading-env` (it also runs as part of "
            "`make`'s install step and of .ci/run)."
        )
    return GRADING_ENV / "bin" / "python"


def load_mistake(master: Path, question: str, label: str) -> str:
    path = ROOT / "tests" / "homework" / f"{master.parent.name}_{master.stem}.py"
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.MISTAKES[question][label]


def fill(student_notebook: Path, master: Path, replace: dict[str, str], destination: Path) -> Path:
    """The student notebook with its answer cells filled from the master's solutions.

    ``replace`` maps a question to the code that stands in for its solution cells.
    """
    _, questions = homework.parse_master(master)
    solutions = [(name, cell) for name, q in questions.items() for cell in q.solution_cells]
    nb = nbformat.read(student_notebook, as_version=4)
    answers = [c for c in nb.cells if "otter_answer_cell" in c.metadata.get("tags", [])]
    assert len(answers) == len(solutions), "one answer cell per solution cell"
    done = set()
    for cell, (name, solution) in zip(answers, solutions, strict=True):
        if name in replace:
            cell.source = "" if name in done else replace[name]
            done.add(name)
        else:
            cell.source = solution
    nbformat.write(nb, destination)
    return destination


def otter_run(python: Path, autograder_zip: Path, submission: Path, out: Path) -> dict:
    """Per question: (score, possible), graded by ``otter run`` in the grading environment."""
    out.mkdir(parents=True, exist_ok=True)
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))
    }
    environment.update(
        OMP_NUM_THREADS="1",
        MPLBACKEND="Agg",
        BIOS740_DATA_DIR=str(out.parent / "data"),  # shared by the runs of one homework
        PATH=f"{python.parent}{os.pathsep}{environment.get('PATH', '')}",
    )
    completed = subprocess.run(
        [str(python), "-m", "otter", "run", "-a", str(autograder_zip), "-o", str(out)]
        + [str(submission)],
        capture_output=True,
        text=True,
        env=environment,
        cwd=out,
        timeout=900,
    )
    results = out / "results.json"
    assert results.is_file(), f"otter run wrote no results:\n{completed.stdout}\n{completed.stderr}"
    tests = json.loads(results.read_text())["tests"]
    failed = [t for t in tests if t["name"].startswith("Autograder")]
    assert not failed, (
        f"otter could not grade {submission.name}: {failed}\n{completed.stdout[-3000:]}"
    )
    return {t["name"]: (t["score"], t["max_score"]) for t in tests if t["name"] != "Public Tests"}


def test_the_environment_is_built_from_the_zips_requirements_only():
    python = grading_python()
    listed = json.loads((GRADING_ENV / release.GRADING_RECORD).read_text())
    assert listed == release.grading_requirements()
    found = subprocess.run(
        [str(python), "-c", "import importlib.util as u; print(u.find_spec('bios740'))"],
        capture_output=True,
        text=True,
        cwd="/",
    )
    assert found.stdout.strip() == "None", "the course package must come from the zip, not the env"
    kernel = subprocess.run(
        [
            str(python),
            "-c",
            "from jupyter_client.kernelspec import KernelSpecManager as M; "
            "import shutil; print(shutil.which(M().get_kernel_spec('python3').argv[0]))",
        ],
        capture_output=True,
        text=True,
        env={"PATH": f"{python.parent}{os.pathsep}{os.environ.get('PATH', '')}"},
    )
    assert Path(kernel.stdout.strip()).resolve().is_relative_to(GRADING_ENV.resolve()) or (
        Path(kernel.stdout.strip()).parent == python.parent
    ), f"otter would grade in another interpreter: {kernel.stdout} {kernel.stderr}"


@pytest.mark.parametrize("master", MASTERS, ids=IDS)
def test_the_config_says_what_grading_needs(master):
    config = release.assignment_config(master)
    assert release.requirement_list(master), (
        f"{master.name}: list the pip requirements grading needs in its ASSIGNMENT CONFIG "
        "(requirements: [torch>=2.5, ...]; see docs/AUTHORING.md, Homework)"
    )
    files = [str(f) for f in config.get("files") or []]
    assert {"helpers.py", release.RUNTIME_PACKAGE_ENTRY} <= set(files), (
        f"{master.name}: its ASSIGNMENT CONFIG files must include helpers.py and bios740"
    )
    assert master.stem in ONE_MISTAKE, (
        f"name one mistake of {master.name} (from its tests/homework file) in ONE_MISTAKE"
    )


@pytest.mark.parametrize("master", MASTERS, ids=IDS)
def test_the_zip_grades_on_its_own(master, tmp_path):
    python = grading_python()
    if master.stem not in ONE_MISTAKE:
        pytest.fail(f"name one mistake of {master.name} in ONE_MISTAKE")
    released = release.release_master(master, tmp_path / "release")
    names = set(zipfile.ZipFile(released.autograder_zip).namelist())
    assert {"files/helpers.py", "files/bios740/__init__.py", "files/bios740/seed.py"} <= names
    assert not any(n.startswith("files/bios740/tools") for n in names), "instructor tools leak"
    wanted = release.zip_requirements(released.autograder_zip)
    built = json.loads((GRADING_ENV / release.GRADING_RECORD).read_text())
    assert set(wanted) <= set(built), f"the grading environment lacks {set(wanted) - set(built)}"

    _, questions = homework.parse_master(master)
    blank = otter_run(
        python, released.autograder_zip, released.student_notebook, tmp_path / "blank"
    )
    assert set(blank) == set(questions), f"graded questions {sorted(blank)}"
    scored = {q: s for q, s in blank.items() if s[0] != 0}
    assert not scored, f"the blank notebook scores points: {scored}"
    points = {q: s[1] for q, s in blank.items()}
    worthless = [q for q, value in points.items() if value <= 0]
    assert not worthless, f"questions worth no points: {worthless}"

    question, label = ONE_MISTAKE[master.stem]
    (tmp_path / "mistake").mkdir()
    mistaken = fill(
        released.student_notebook,
        master,
        {question: load_mistake(master, question, label)},
        tmp_path / "mistake" / master.name,
    )
    graded = otter_run(python, released.autograder_zip, mistaken, tmp_path / "mistake-results")
    assert set(graded) == set(questions), f"graded questions {sorted(graded)}"
    # Every question but the mistaken one holds the solution, so it must score full marks.
    lost = {q: points[q] - s[0] for q, s in graded.items() if s[0] != points[q]}
    assert lost == {question: points[question]}, f"{label!r} should lose exactly {question}: {lost}"
