"""Tests for Chapter1/train_ddp.py and the Longleaf job scripts in Chapter1/slurm/.

The DDP test starts two real CPU processes with torchrun (gloo backend, rendezvous on
localhost only, so it also runs with the network namespace down but loopback up) and
checks the property that makes DDP correct: with the same global batch and seed, two
processes train the same model as one process does.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import torch

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = REPO_ROOT / "Chapter1" / "train_ddp.py"
SLURM_DIR = REPO_ROOT / "Chapter1" / "slurm"
SBATCH_FILES = ["notebook_gpu.sbatch", "ddp_multi_gpu.sbatch"]
# Short but long enough for the loss to fall clearly; keeps each run to a few seconds.
TRAIN_ARGS = ["--epochs", "4", "--batch-size", "64", "--lr", "0.1", "--seed", "3"]
TIMEOUT_S = 120


def _load_train_module():
    spec = importlib.util.spec_from_file_location("chapter1_train_ddp", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _clean_env() -> dict[str, str]:
    """Environment without torchrun variables a surrounding launcher might have set."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"RANK", "LOCAL_RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"}
    }
    env["CUDA_VISIBLE_DEVICES"] = ""  # the comparison is about gloo on CPU
    env["OMP_NUM_THREADS"] = "1"
    return env


def _run(command: list[str], cwd: Path) -> subprocess.CompletedProcess:
    result = subprocess.run(
        command,
        cwd=cwd,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )
    assert result.returncode == 0, (
        f"{shlex.join(command)} exited with {result.returncode}\n"
        f"stdout:\n{result.stdout[-3000:]}\nstderr:\n{result.stderr[-3000:]}"
    )
    return result


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Train once with two torchrun processes and once as a plain single process."""
    base = tmp_path_factory.mktemp("ddp")
    two = base / "two_processes"
    one = base / "one_process"
    two_result = _run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc_per_node=2",
            str(SCRIPT),
            *TRAIN_ARGS,
            "--backend",
            "gloo",
            "--checkpoint",
            str(two / "checkpoint.pt"),
            "--rank-weights-dir",
            str(two / "weights"),
        ],
        cwd=base,
    )
    one_result = _run(
        [
            sys.executable,
            str(SCRIPT),
            *TRAIN_ARGS,
            "--checkpoint",
            str(one / "checkpoint.pt"),
            "--rank-weights-dir",
            str(one / "weights"),
        ],
        cwd=base,
    )
    return {"base": base, "two": two, "one": one, "two_out": two_result, "one_out": one_result}


def test_two_process_run_reports_and_checkpoints_from_rank_0_only(runs):
    stdout = runs["two_out"].stdout
    assert "world size 2, backend gloo" in stdout
    assert stdout.count("test accuracy") == 1, "only rank 0 should print the result"
    match = re.search(r"test accuracy (\d\.\d+)", stdout)
    assert match, stdout
    # Ten balanced classes: chance is 0.10; a working linear model gets above 0.90.
    assert float(match.group(1)) > 0.90
    checkpoints = sorted(p.name for p in runs["two"].rglob("*.pt") if p.parent == runs["two"])
    assert checkpoints == ["checkpoint.pt"]
    # --checkpoint replaced the default runs/ folder: nothing was written elsewhere.
    assert not (runs["base"] / "runs").exists()


def test_both_ranks_end_with_identical_weights(runs):
    rank0 = torch.load(runs["two"] / "weights" / "rank0.pt")
    rank1 = torch.load(runs["two"] / "weights" / "rank1.pt")
    assert rank0.keys() == rank1.keys() == {"weight", "bias"}
    for name in rank0:
        assert torch.equal(rank0[name], rank1[name]), f"ranks disagree on {name}"


def test_loss_falls(runs):
    history = torch.load(runs["two"] / "checkpoint.pt")["history"]
    assert len(history) == 4
    assert all(later < earlier for earlier, later in zip(history[:-1], history[1:], strict=True)), (
        history
    )
    assert history[-1] < 0.6 * history[0], history


def test_two_processes_match_one_process(runs):
    """Same global batches + averaged gradients = the single-process trajectory."""
    distributed = torch.load(runs["two"] / "weights" / "rank0.pt")
    single = torch.load(runs["one"] / "weights" / "rank0.pt")
    for name in single:
        assert torch.allclose(distributed[name], single[name], rtol=0, atol=1e-4), (
            name,
            (distributed[name] - single[name]).abs().max().item(),
        )
    # ...and they are not trivially equal because nothing was trained.
    torch.manual_seed(3)  # the --seed of TRAIN_ARGS: the script's initial weights
    initial = torch.nn.Linear(64, 10)
    assert (single["weight"] - initial.weight.detach()).abs().max() > 0.05
    one_history = torch.load(runs["one"] / "checkpoint.pt")["history"]
    two_history = torch.load(runs["two"] / "checkpoint.pt")["history"]
    assert one_history == pytest.approx(two_history, abs=1e-4)
    assert "world size 1, backend none (single process)" in runs["one_out"].stdout


def test_checkpoint_loads_into_plain_linear_model(runs):
    checkpoint = torch.load(runs["two"] / "checkpoint.pt")
    model = torch.nn.Linear(64, 10)
    model.load_state_dict(checkpoint["model_state"])  # no "module." prefix from DDP
    assert checkpoint["world_size"] == 2
    assert checkpoint["args"]["batch_size"] == 64
    assert 0.9 < checkpoint["test_accuracy"] <= 1.0


def test_global_batch_must_split_evenly():
    train_ddp = _load_train_module()
    train, _ = train_ddp.load_digit_splits()
    with pytest.raises(ValueError, match="divisible"):
        train_ddp.make_train_loader(train, 63, world_size=2, rank=0, seed=0, pin=False)
    with pytest.raises(ValueError, match="larger than the training set"):
        train_ddp.make_train_loader(train, 4096, world_size=1, rank=0, seed=0, pin=False)


def test_sharded_batches_cover_the_single_process_batches():
    """The union of the ranks' k-th batches is the single process's k-th batch."""
    train_ddp = _load_train_module()
    indices = torch.arange(101, dtype=torch.float32).unsqueeze(1)
    data = torch.utils.data.TensorDataset(indices, torch.zeros(101, dtype=torch.long))

    def batches(world_size, rank):
        loader, sampler = train_ddp.make_train_loader(
            data, 8, world_size=world_size, rank=rank, seed=5, pin=False
        )
        sampler.set_epoch(2)
        return [set(x.squeeze(1).int().tolist()) for x, _ in loader]

    single = batches(1, 0)
    rank0, rank1 = batches(2, 0), batches(2, 1)
    assert len(single) == len(rank0) == len(rank1) == 101 // 8
    for whole, part0, part1 in zip(single, rank0, rank1, strict=True):
        assert len(part0) == len(part1) == 4
        assert part0.isdisjoint(part1)
        assert part0 | part1 == whole


def test_defaults_are_relative_and_fast():
    train_ddp = _load_train_module()
    args = train_ddp.parse_args([])
    assert not Path(args.checkpoint).is_absolute()
    assert Path(args.checkpoint).parts[0] == "runs"
    assert (args.epochs, args.batch_size, args.backend) == (15, 64, "auto")
    assert args.rank_weights_dir is None


def test_bad_arguments_are_rejected():
    train_ddp = _load_train_module()
    for bad in (["--epochs", "0"], ["--lr", "-1"], ["--batch-size", "0"], ["--backend", "mpi"]):
        with pytest.raises(SystemExit):
            train_ddp.parse_args(bad)
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="needs CUDA"):
            train_ddp.setup_distributed("nccl")


# --- SLURM job scripts ---------------------------------------------------------------


def _sbatch_lines(name: str) -> list[str]:
    return [
        line for line in (SLURM_DIR / name).read_text().splitlines() if line.startswith("#SBATCH")
    ]


@pytest.mark.parametrize("name", SBATCH_FILES)
def test_every_sbatch_directive_is_commented(name):
    lines = _sbatch_lines(name)
    assert len(lines) >= 6
    for line in lines:
        directive, sep, comment = line.partition(" # ")
        assert sep and comment.strip(), f"{name}: add a '# why' comment to: {line}"
        assert re.fullmatch(r"#SBATCH --[a-z-]+(=\S+)?\s*", directive), line


@pytest.mark.parametrize("name", SBATCH_FILES)
def test_sbatch_follows_longleaf_gpu_conventions(name):
    options = dict(
        line.split(" # ")[0].removeprefix("#SBATCH ").strip().partition("=")[::2]
        for line in _sbatch_lines(name)
    )
    assert options["--qos"] == "gpu_access"
    assert options["--partition"] in {"gpu", "volta-gpu", "a100-gpu", "l40-gpu"}
    assert re.fullmatch(r"gpu:\d+", options["--gres"])
    assert re.fullmatch(r"\d{2}:\d{2}:\d{2}", options["--time"])
    text = (SLURM_DIR / name).read_text()
    assert "module load" in text
    assert "SLURM_SUBMIT_DIR" in text


@pytest.mark.parametrize("name", SBATCH_FILES)
def test_sbatch_is_valid_bash_without_personal_paths(name):
    path = SLURM_DIR / name
    assert path.read_text().startswith("#!/bin/bash\n")
    result = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    text = path.read_text()
    for personal in ("/nas/longleaf/home/", "/users/", "/Users/", "/home/"):
        assert personal not in text, f"{name} contains a personal path ({personal})"


@pytest.mark.parametrize("name", SBATCH_FILES)
def test_sbatch_references_files_that_exist(name):
    text = (SLURM_DIR / name).read_text()
    referenced = set(re.findall(r"Chapter\d+/[\w./-]+\.(?:py|ipynb|sbatch|txt)", text))
    referenced |= set(re.findall(r"\brequirements\.txt\b", text))
    assert referenced, f"{name} names no course file"
    for relative in referenced:
        assert (REPO_ROOT / relative).is_file(), f"{name} refers to missing {relative}"


def _fake_cluster(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A submit directory with the course files the job scripts use, and stand-ins for
    module, nvidia-smi, python, torchrun and papermill that only log their arguments."""
    submit_dir = tmp_path / "course"
    for relative in ("Chapter1/train_ddp.py", "Chapter1/05_computing_resources.ipynb"):
        (submit_dir / relative).parent.mkdir(parents=True, exist_ok=True)
        (submit_dir / relative).write_text("")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "calls.log"
    for tool in ("module", "nvidia-smi", "python", "torchrun", "papermill"):
        stub = bin_dir / tool
        stub.write_text(f'#!/bin/bash\necho "{tool} $*" >> "{log}"\n')
        stub.chmod(stub.stat().st_mode | stat.S_IXUSR)
    venv = tmp_path / "venv" / "bin"
    venv.mkdir(parents=True)
    (venv / "activate").write_text("# stand-in for a virtual environment\n")
    return submit_dir, bin_dir, log


def _run_job_script(name: str, tmp_path: Path, *args: str) -> tuple[str, Path]:
    submit_dir, bin_dir, log = _fake_cluster(tmp_path)
    env = {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "HOME": str(tmp_path),
        "SLURM_SUBMIT_DIR": str(submit_dir),
        "SLURM_JOB_ID": "12345",
        "SLURM_GPUS_ON_NODE": "4",
        "SLURM_CPUS_PER_TASK": "8",
        "BIOS740_VENV": str(tmp_path / "venv"),
    }
    result = subprocess.run(
        ["bash", str(SLURM_DIR / name), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    return log.read_text(), submit_dir


def test_ddp_job_launches_one_worker_per_gpu(tmp_path):
    calls, submit_dir = _run_job_script("ddp_multi_gpu.sbatch", tmp_path, "--epochs", "7")
    torchrun = next(line for line in calls.splitlines() if line.startswith("torchrun"))
    assert "--standalone --nproc_per_node=4 Chapter1/train_ddp.py" in torchrun
    assert "--backend nccl" in torchrun
    assert "--checkpoint runs/ddp_12345/checkpoint.pt" in torchrun
    assert torchrun.endswith("--epochs 7")
    assert (submit_dir / "runs" / "ddp_12345").is_dir()


def test_notebook_job_runs_the_notebook_with_papermill(tmp_path):
    calls, submit_dir = _run_job_script("notebook_gpu.sbatch", tmp_path)
    papermill = next(line for line in calls.splitlines() if line.startswith("papermill"))
    assert papermill.startswith(
        "papermill Chapter1/05_computing_resources.ipynb "
        "runs/notebooks/05_computing_resources_12345.ipynb"
    )
    assert "--cwd Chapter1" in papermill
    assert "--kernel python3" in papermill


def test_notebook_job_stops_on_a_missing_notebook(tmp_path):
    submit_dir, bin_dir, _ = _fake_cluster(tmp_path)
    result = subprocess.run(
        ["bash", str(SLURM_DIR / "notebook_gpu.sbatch"), "Chapter1/no_such.ipynb"],
        env={"PATH": f"{bin_dir}:{os.environ['PATH']}", "SLURM_SUBMIT_DIR": str(submit_dir)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "not found" in result.stderr
