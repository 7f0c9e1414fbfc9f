"""Train the class-conditional slice denoiser that notebook 06 loads (slice_denoiser.pt).

Training a U-Net worth sampling from takes longer than a notebook's budget on a CPU, so
this script makes the checkpoint once and notebook 06 loads it (or, if it is missing,
trains briefly with the same code and says so). Run it from the Chapter12 folder::

    python train_slice_denoiser.py                   # the committed checkpoint
    python train_slice_denoiser.py --steps 200 --out /tmp/quick.pt

Same arguments, same torch version and CPU: same weights (every draw is seeded). On a
GPU it takes about a minute; on one CPU thread about half an hour.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import helpers
import torch

DEFAULTS = {"steps": 5000, "batch_size": 64, "lr": 2e-3, "label_dropout": 0.2, "seed": 0}


def train(steps: int, batch_size: int, lr: float, label_dropout: float, seed: int):
    """Train on the ``train`` slices of :func:`helpers.flair_slices`; return model, info."""
    data = helpers.flair_slices()["train"]
    alpha_bar = helpers.alpha_bars(helpers.cosine_betas(1000))
    torch.manual_seed(seed)
    start = time.process_time()
    model, losses = helpers.train_conditional_denoiser(
        data["images"],
        data["labels"],
        alpha_bar,
        n_classes=2,
        train_steps=steps,
        batch_size=batch_size,
        lr=lr,
        label_dropout=label_dropout,
        seed=seed,
        model=helpers.build_slice_denoiser(),
    )
    window = max(1, steps // 40)
    info = {
        "steps": steps,
        "batch_size": batch_size,
        "lr": lr,
        "label_dropout": label_dropout,
        "seed": seed,
        "schedule": "cosine, 1000 steps",
        "data": dict(helpers.SLICE_DATA),
        "cpu_seconds": round(time.process_time() - start, 1),
        "torch": str(torch.__version__),
        "loss_every": window,
        "loss_curve": [
            round(sum(losses[i : i + window]) / len(losses[i : i + window]), 5)
            for i in range(0, steps, window)
        ],
    }
    return model, info


def main(argv=None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name, value in DEFAULTS.items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=type(value), default=value)
    parser.add_argument("--out", type=Path, default=helpers.CHECKPOINT)
    args = parser.parse_args(argv)
    model, info = train(**{name: getattr(args, name) for name in DEFAULTS})
    path = helpers.save_slice_denoiser(model, args.out, info)
    print(f"wrote {path} ({path.stat().st_size / 1e3:.0f} kB) after {info['cpu_seconds']} s CPU")
    return path


if __name__ == "__main__":
    main()
