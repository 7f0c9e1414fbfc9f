"""Train the Chapter 1 case-study model with DistributedDataParallel (DDP).

The model is multinomial logistic regression (one linear layer, 64 pixel features -> 10
digit classes) on scikit-learn's handwritten digits, which ship with scikit-learn, so the
script runs offline. The same file runs

* as one ordinary process:                 python Chapter1/train_ddp.py
* as two CPU processes (gloo backend):     torchrun --standalone --nproc_per_node=2 Chapter1/train_ddp.py
* on one node with N GPUs (nccl backend):  torchrun --standalone --nproc_per_node=N Chapter1/train_ddp.py

How the work is divided. ``--batch-size`` is the *global* batch: every optimizer step uses
that many examples in total, and each of the ``world_size`` processes takes an equal share
of ``batch_size // world_size`` of them. ``DistributedSampler`` hands every process a
disjoint slice of one shuffled order that all processes agree on (it is seeded with
``--seed`` and reshuffled by ``set_epoch``). DDP averages the gradients of the processes
after ``backward()``; because every share has the same size, that average is exactly the
gradient of the mean loss over the global batch. Training with 1, 2 or 8 processes and the
same global batch and seed therefore takes the same steps, up to floating-point rounding.

Rank 0 alone evaluates on the held-out test set, prints the result and saves the
checkpoint; the other processes wait at a barrier so that none exits early.
"""

from __future__ import annotations

import argparse
import gc
import os
import time
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

DEFAULT_CHECKPOINT = os.path.join("runs", "ddp_digits", "checkpoint.pt")
TEST_FRACTION = 0.25
DATA_SPLIT_SEED = 0  # fixed, so that every run and every rank holds out the same test images


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options; defaults train in a few seconds on a CPU."""
    parser = argparse.ArgumentParser(
        description="Logistic regression on scikit-learn digits with DistributedDataParallel."
    )
    parser.add_argument("--epochs", type=int, default=15, help="passes over the training set")
    parser.add_argument(
        "--batch-size",
        type=int,
        default=64,
        help="GLOBAL batch size, split evenly over the processes (must be divisible by them)",
    )
    parser.add_argument("--lr", type=float, default=0.1, help="SGD learning rate")
    parser.add_argument("--seed", type=int, default=0, help="seed for weights and data order")
    parser.add_argument(
        "--checkpoint",
        type=str,
        default=DEFAULT_CHECKPOINT,
        help="where rank 0 saves the trained model (relative paths are relative to the "
        "current directory)",
    )
    parser.add_argument(
        "--backend",
        choices=["auto", "gloo", "nccl"],
        default="auto",
        help="process-group backend: nccl for GPUs, gloo for CPUs; auto picks nccl when "
        "CUDA is available",
    )
    # Used by the tests only: every rank saves its final weights so that they can be compared.
    parser.add_argument("--rank-weights-dir", type=str, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.epochs < 1:
        parser.error(f"--epochs must be at least 1, got {args.epochs}")
    if args.batch_size < 1:
        parser.error(f"--batch-size must be at least 1, got {args.batch_size}")
    if args.lr <= 0:
        parser.error(f"--lr must be positive, got {args.lr}")
    return args


def setup_distributed(backend: str) -> tuple[int, int, int, torch.device]:
    """Join the process group that torchrun set up; return (rank, local_rank, world, device).

    torchrun exports RANK, LOCAL_RANK and WORLD_SIZE (plus MASTER_ADDR/MASTER_PORT) to every
    process it starts. Without them the script was started as a plain ``python`` process:
    it then trains alone (world size 1) and never creates a process group.
    """
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if backend == "auto":
        backend = "nccl" if torch.cuda.is_available() else "gloo"
    if backend == "nccl":
        if not torch.cuda.is_available():
            raise RuntimeError(
                "--backend nccl needs CUDA GPUs, but torch.cuda.is_available() is False; "
                "use --backend gloo (or auto) on a CPU-only machine."
            )
        if local_rank >= torch.cuda.device_count():
            raise RuntimeError(
                f"local rank {local_rank} has no GPU: this node has "
                f"{torch.cuda.device_count()} GPU(s); start at most that many processes per "
                "node (torchrun --nproc_per_node) or request more GPUs (--gres=gpu:N)."
            )
        # One GPU per process: local rank k drives GPU k of its node.
        torch.cuda.set_device(local_rank)
        device = torch.device("cuda", local_rank)
    else:
        device = torch.device("cpu")
    if world_size > 1:
        dist.init_process_group(backend=backend)
    return rank, local_rank, world_size, device


def load_digit_splits() -> tuple[TensorDataset, TensorDataset]:
    """Digits as standardized float features; the test set is held out, stratified by class.

    Every rank computes the same split (fixed seed), and the scaling uses training-set
    statistics only, so nothing about the test images leaks into training.
    """
    digits = load_digits()
    features = digits.data.astype(np.float32)
    labels = digits.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        features,
        labels,
        test_size=TEST_FRACTION,
        stratify=labels,
        random_state=DATA_SPLIT_SEED,
    )
    mean = x_train.mean(axis=0)
    std = x_train.std(axis=0) + 1e-6  # some border pixels are always 0
    x_train = (x_train - mean) / std
    x_test = (x_test - mean) / std
    train = TensorDataset(torch.from_numpy(x_train), torch.from_numpy(y_train))
    test = TensorDataset(torch.from_numpy(x_test), torch.from_numpy(y_test))
    return train, test


def make_train_loader(
    train: TensorDataset, batch_size: int, world_size: int, rank: int, seed: int, pin: bool
) -> tuple[DataLoader, DistributedSampler]:
    """Each process loads only its share: batch_size // world_size examples per step.

    drop_last=True in the sampler trims the data set to a multiple of world_size (no
    duplicated padding examples), and drop_last=True in the loader keeps only full global
    batches, so 1 process and N processes see exactly the same global batches.
    """
    if batch_size % world_size != 0:
        raise ValueError(
            f"--batch-size {batch_size} is the global batch and must be divisible by the "
            f"number of processes ({world_size}); try {world_size * max(1, batch_size // world_size)}."
        )
    per_process_batch = batch_size // world_size
    if len(train) // world_size < per_process_batch:
        raise ValueError(
            f"--batch-size {batch_size} is larger than the training set ({len(train)} examples)."
        )
    sampler = DistributedSampler(
        train, num_replicas=world_size, rank=rank, shuffle=True, seed=seed, drop_last=True
    )
    loader = DataLoader(
        train,
        batch_size=per_process_batch,
        sampler=sampler,
        drop_last=True,
        num_workers=0,  # the data are already in memory; worker processes would only add startup
        pin_memory=pin,
    )
    return loader, sampler


@torch.no_grad()
def accuracy(model: nn.Module, data: TensorDataset, device: torch.device) -> float:
    """Fraction of correctly classified examples."""
    features, labels = data.tensors
    predictions = model(features.to(device)).argmax(dim=1)
    return (predictions == labels.to(device)).float().mean().item()


def train_and_evaluate(
    args: argparse.Namespace, rank: int, local_rank: int, world_size: int, device: torch.device
) -> dict:
    """Train on this rank's share of every batch; rank 0 evaluates and saves the checkpoint."""
    is_main = rank == 0
    train, test = load_digit_splits()
    loader, sampler = make_train_loader(
        train, args.batch_size, world_size, rank, args.seed, pin=device.type == "cuda"
    )
    # Same seed on every rank gives the same initial weights; DDP would also broadcast
    # rank 0's weights when it wraps the model.
    torch.manual_seed(args.seed)
    n_features = train.tensors[0].shape[1]
    n_classes = int(train.tensors[1].max()) + 1
    model = nn.Linear(n_features, n_classes).to(device)
    if world_size > 1:
        ddp_model = DistributedDataParallel(
            model, device_ids=[local_rank] if device.type == "cuda" else None
        )
    else:
        ddp_model = model
    optimizer = torch.optim.SGD(ddp_model.parameters(), lr=args.lr)
    loss_fn = nn.CrossEntropyLoss()

    if is_main:
        print(
            f"world size {world_size}, backend "
            f"{dist.get_backend() if world_size > 1 else 'none (single process)'}, "
            f"device {device}; global batch {args.batch_size} = {world_size} x "
            f"{args.batch_size // world_size}; {len(loader)} steps per epoch"
        )
    history = []
    start = time.perf_counter()
    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)  # a new shuffle each epoch, the same one on every rank
        loss_sum = torch.zeros((), device=device)
        for features, labels in loader:
            features = features.to(device, non_blocking=True)
            labels = labels.to(device, non_blocking=True)
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(ddp_model(features), labels)
            loss.backward()  # under DDP this also averages the gradients over all ranks
            optimizer.step()
            loss_sum += loss.detach()
        epoch_loss = loss_sum / len(loader)
        if world_size > 1:
            # Each rank saw different examples; average their losses for the log. (SUM and
            # a division rather than ReduceOp.AVG, which older gloo versions lack.)
            dist.all_reduce(epoch_loss, op=dist.ReduceOp.SUM)
            epoch_loss /= world_size
        history.append(epoch_loss.item())
        if is_main:
            print(f"epoch {epoch + 1:3d}/{args.epochs}  train loss {history[-1]:.4f}")
    seconds = time.perf_counter() - start

    if args.rank_weights_dir is not None:
        out_dir = Path(args.rank_weights_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        torch.save({k: v.cpu() for k, v in model.state_dict().items()}, out_dir / f"rank{rank}.pt")

    result = {"train_loss": history, "seconds": seconds}
    if is_main:
        result["train_accuracy"] = accuracy(model, train, device)
        result["test_accuracy"] = accuracy(model, test, device)
        checkpoint = Path(args.checkpoint)
        checkpoint.parent.mkdir(parents=True, exist_ok=True)
        # model, not ddp_model: the saved keys then have no "module." prefix and load
        # into a plain nn.Linear.
        torch.save(
            {
                "model_state": {k: v.cpu() for k, v in model.state_dict().items()},
                "args": vars(args),
                "world_size": world_size,
                "history": history,
                "test_accuracy": result["test_accuracy"],
            },
            checkpoint,
        )
        print(f"training took {seconds:.1f} s")
        print(f"train accuracy {result['train_accuracy']:.4f}")
        print(f"test accuracy {result['test_accuracy']:.4f}")
        print(f"checkpoint saved to {checkpoint}")
    if world_size > 1:
        dist.barrier()  # no rank leaves before rank 0 has written the checkpoint
    return result


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    rank, local_rank, world_size, device = setup_distributed(args.backend)
    try:
        return train_and_evaluate(args, rank, local_rank, world_size, device)
    finally:
        # The DDP wrapper created in train_and_evaluate must be gone before its process
        # group: collect it now, not at interpreter exit after the group was destroyed
        # (that order can abort a gloo process at shutdown).
        gc.collect()
        if dist.is_initialized():
            dist.destroy_process_group()


if __name__ == "__main__":
    main()
