"""Chapter 4 helpers: the heartbeat models, the feature baseline, metrics with intervals.

Data loading lives in :mod:`bios740.datasets.ecg` (chapter 11 reuses it) and training in
:func:`bios740.training.fit`; this file holds what the chapter's notebooks share: the
recurrent and convolutional classifiers, the beat features of de Chazal et al. (2004) for
the classical baseline, macro-F1 with a bootstrap interval over patients, and the
gradient-over-time measurement of notebook 04.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from bios740 import training
from bios740.stats import bootstrap_samples, percentile_interval

RECURRENT_KINDS = ("rnn", "lstm", "gru")


class RecurrentClassifier(nn.Module):
    """An RNN, LSTM or GRU reads a beat; a linear layer classifies its last hidden state.

    Input ``(batch, time, channels)``; output logits ``(batch, n_classes)``. With
    ``bidirectional=True`` the last states of both directions are concatenated.
    """

    def __init__(
        self,
        kind: str,
        n_channels: int,
        n_classes: int,
        hidden_size: int = 32,
        num_layers: int = 1,
        bidirectional: bool = False,
    ):
        super().__init__()
        if kind not in RECURRENT_KINDS:
            raise ValueError(f"kind must be one of {RECURRENT_KINDS}, got {kind!r}")
        for name, value in (("n_channels", n_channels), ("n_classes", n_classes)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        layer = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[kind]
        self.kind = kind
        self.recurrent = layer(
            n_channels,
            hidden_size,
            num_layers=num_layers,
            batch_first=True,
            bidirectional=bidirectional,
        )
        self.head = nn.Linear(hidden_size * (2 if bidirectional else 1), n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 3:
            raise ValueError(f"expected input (batch, time, channels), got shape {tuple(x.shape)}")
        _, state = self.recurrent(x)
        hidden = state[0] if isinstance(state, tuple) else state  # LSTM returns (h, c)
        if self.recurrent.bidirectional:
            last = torch.cat([hidden[-2], hidden[-1]], dim=1)
        else:
            last = hidden[-1]
        return self.head(last)


class ConvClassifier(nn.Module):
    """A 1-D CNN baseline: three conv-BN-ReLU-pool blocks, global average pooling, linear."""

    def __init__(self, n_channels: int, n_classes: int, width: int = 32, kernel_size: int = 7):
        super().__init__()
        blocks = []
        channels = n_channels
        for out in (width, width, 2 * width):
            blocks += [
                nn.Conv1d(channels, out, kernel_size, padding=kernel_size // 2),
                nn.BatchNorm1d(out),
                nn.ReLU(),
                nn.MaxPool1d(2),
            ]
            channels = out
        self.features = nn.Sequential(*blocks)
        self.head = nn.Linear(channels, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 3:
            raise ValueError(f"expected input (batch, time, channels), got shape {tuple(x.shape)}")
        features = self.features(x.transpose(1, 2))  # Conv1d wants (batch, channels, time)
        return self.head(features.mean(dim=2))


def macro_f1(y_true, y_pred, n_classes: int) -> float:
    """Unweighted mean of the per-class F1 scores (classes absent from both count as 0)."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true {y_true.shape} and y_pred {y_pred.shape} must match")
    scores = []
    for k in range(n_classes):
        tp = np.sum((y_true == k) & (y_pred == k))
        fp = np.sum((y_true != k) & (y_pred == k))
        fn = np.sum((y_true == k) & (y_pred != k))
        scores.append(2 * tp / max(1, 2 * tp + fp + fn))
    return float(np.mean(scores))


def per_class_recall(y_true, y_pred, n_classes: int) -> np.ndarray:
    """Recall (sensitivity) of each class: correct / true members (NaN for absent classes)."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    return np.array(
        [
            np.mean(y_pred[y_true == k] == k) if np.any(y_true == k) else np.nan
            for k in range(n_classes)
        ]
    )


def bootstrap_by_patient(
    y_true, y_pred, patients, n_classes: int, n_boot: int = 1000, seed: int = 0,
    return_samples: bool = False,
) -> tuple:  # fmt: skip
    """Macro-F1 and its 95 % percentile interval from resampling whole patients.

    Beats of one patient are correlated, so the patients, not the beats, are the
    independent units: each bootstrap sample draws as many patients as there are, with
    replacement, and takes all their beats (Efron & Tibshirani, 1993).

    Returns:
        ``(macro_f1, low, high)``, and the ``n_boot`` bootstrap scores with
        ``return_samples=True``. The same ``seed`` draws the same patients, so the score
        arrays of two models give a paired interval for their difference.
    """
    y_true, y_pred, patients = map(np.asarray, (y_true, y_pred, patients))
    if not y_true.shape == y_pred.shape == patients.shape:
        raise ValueError("y_true, y_pred and patients need one entry per beat each")
    if np.unique(patients).size < 2:
        raise ValueError("need beats of at least two patients to resample patients")
    scores = bootstrap_samples(
        lambda t, p: macro_f1(t, p, n_classes), y_true, y_pred, groups=patients,
        n_boot=n_boot, seed=seed,
    )  # fmt: skip
    low, high = percentile_interval(scores)
    result = (macro_f1(y_true, y_pred, n_classes), low, high)
    return (*result, scores) if return_samples else result


def beat_features(beats) -> np.ndarray:
    """Interval and morphology features of each beat, after de Chazal et al. (2004).

    Interval features: RR before and after the beat and the local median RR (seconds),
    and the first two relative to the third. Morphology: a QRS width estimate (s), the
    ECG sampled from 50 ms before to 100 ms after the R peak (QRS), from 150 to 450 ms
    after it (T wave), and from 250 to 70 ms before it (P wave).

    Args:
        beats: a :class:`bios740.datasets.ecg.BeatSet` with ``rr_s``.

    Returns:
        ``(beats, features)`` float array.
    """
    if getattr(beats, "rr_s", None) is None:
        raise ValueError("beats.rr_s is missing; load the beats with bios740.datasets.ecg")
    x, fs = beats.x[:, :, 0], beats.fs
    t = (np.arange(x.shape[1]) - round(0.25 * fs)) / fs

    def between(start, stop):
        return x[:, (t >= start - 1e-9) & (t <= stop + 1e-9)]

    core = between(-0.12, 0.12)
    width = (np.abs(core) > 0.3 * np.abs(core).max(1, keepdims=True)).sum(1, keepdims=True) / fs
    rr = beats.rr_s.astype(np.float64)
    parts = [rr, rr[:, :2] / rr[:, 2:], width, between(-0.05, 0.1), between(0.15, 0.45)]
    return np.concatenate([*parts, between(-0.25, -0.07)], axis=1)


@torch.no_grad()
def predict_classes(model: nn.Module, x: torch.Tensor, batch_size: int = 1024) -> np.ndarray:
    """Predicted class per row of ``x`` (model in eval mode, batches to bound memory)."""
    outputs, _ = training.predict(
        model, training.tensor_loader(x, torch.zeros(len(x)), batch_size=batch_size)
    )
    return outputs.argmax(1).numpy()


def macro_f1_metric(n_classes: int):
    """Macro-F1 as a :func:`bios740.training.fit` metric ``(outputs, targets) -> float``."""
    return lambda outputs, targets: macro_f1(targets.numpy(), outputs.argmax(1).numpy(), n_classes)


@dataclass
class TrainResult:
    """What :func:`train_beat_classifier` returns."""

    model: nn.Module
    best_epoch: int
    history: dict[str, list[float]] = field(default_factory=dict)
    seconds: float = 0.0


def train_beat_classifier(
    model, x_train, y_train, x_val, y_val, *, epochs=15, batch_size=64, lr=3e-3,
    weighted=True, clip_norm=1.0, seed=0, desc="training", progress=True,
) -> TrainResult:  # fmt: skip
    """Adam, class-weighted cross-entropy, clipping, best validation macro-F1 epoch.

    A thin wrapper of :func:`bios740.training.fit` kept for homework 4's solution; the
    lectures call ``fit`` directly.
    """
    if len(x_train) != len(y_train) or len(x_val) != len(y_val):
        raise ValueError("x and y must have the same number of rows")
    n_classes = model.head.out_features
    device = next(model.parameters()).device
    weight = training.balanced_class_weights(y_train.cpu(), n_classes) if weighted else None
    start = time.perf_counter()
    history = training.fit(
        model,
        training.tensor_loader(x_train, y_train, batch_size=batch_size, shuffle=True, seed=seed),
        nn.CrossEntropyLoss(weight=None if weight is None else weight.to(device)),
        torch.optim.Adam(model.parameters(), lr=lr),
        epochs=epochs,
        val_loader=training.tensor_loader(x_val, y_val, batch_size=1024),
        metrics={"macro_f1": macro_f1_metric(n_classes)},
        clip_grad_norm=clip_norm,
        best_on="val_macro_f1",
        mode="max",
        progress=progress,
        desc=desc,
    )
    record = {"train_loss": history["train_loss"], "val_macro_f1": history["val_macro_f1"]}
    return TrainResult(model, history.best_epoch, record, time.perf_counter() - start)


def input_gradient_norms(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> np.ndarray:
    """Mean norm of d(loss)/d(input at step t) over a batch, for every time step t.

    Shows how much the prediction can still learn from early time steps: for a plain RNN
    it shrinks quickly with distance from the end of the sequence (vanishing gradient).
    """
    model.train()  # cuDNN computes RNN input gradients only in training mode
    device = next(model.parameters()).device
    inputs = x.to(device).clone().requires_grad_(True)
    loss = nn.functional.cross_entropy(model(inputs), y.to(device))
    (gradient,) = torch.autograd.grad(loss, inputs)
    model.eval()
    return gradient.norm(dim=2).mean(dim=0).cpu().numpy()
