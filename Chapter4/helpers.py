"""Chapter 4 helpers: sequence classifiers for heartbeats, training with class weights, metrics.

Data loading lives in :mod:`bios740.datasets.ecg` (chapter 11 reuses it); this file holds what the
chapter's notebooks share: the four models compared in the heartbeat notebook, a small
training loop that keeps the best epoch on the validation set, and the metrics.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

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


def class_weights(y: np.ndarray | torch.Tensor, n_classes: int) -> torch.Tensor:
    """Inverse-frequency class weights, scaled so that the average weight per sample is 1.

    With these weights in the cross-entropy every class contributes as much to the loss
    as if the classes were balanced.
    """
    counts = torch.bincount(torch.as_tensor(y).long().cpu(), minlength=n_classes).float()
    if (counts == 0).any():
        missing = torch.nonzero(counts == 0).flatten().tolist()
        raise ValueError(f"classes {missing} have no training samples; cannot weight them")
    return counts.sum() / (n_classes * counts)


def macro_f1(y_true, y_pred, n_classes: int) -> float:
    """Unweighted mean of the per-class F1 scores (classes absent from both count as 0)."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    scores = []
    for k in range(n_classes):
        tp = np.sum((y_true == k) & (y_pred == k))
        fp = np.sum((y_true != k) & (y_pred == k))
        fn = np.sum((y_true == k) & (y_pred != k))
        scores.append(2 * tp / max(1, 2 * tp + fp + fn))
    return float(np.mean(scores))


def per_class_recall(y_true, y_pred, n_classes: int) -> np.ndarray:
    """Recall (sensitivity) of each class: correct / true members."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    return np.array(
        [
            np.mean(y_pred[y_true == k] == k) if np.any(y_true == k) else np.nan
            for k in range(n_classes)
        ]
    )


@dataclass
class TrainResult:
    """What :func:`train_classifier` returns."""

    model: nn.Module
    best_epoch: int
    history: dict[str, list[float]] = field(default_factory=dict)
    seconds: float = 0.0


@torch.no_grad()
def predict_classes(model: nn.Module, x: torch.Tensor, batch_size: int = 1024) -> np.ndarray:
    """Predicted class per row of ``x`` (model in eval mode, batches to bound memory)."""
    model.eval()
    device = next(model.parameters()).device
    outputs = [
        model(x[i : i + batch_size].to(device)).argmax(1).cpu()
        for i in range(0, len(x), batch_size)
    ]
    return torch.cat(outputs).numpy()


def train_classifier(
    model: nn.Module,
    x_train: torch.Tensor,
    y_train: torch.Tensor,
    x_val: torch.Tensor,
    y_val: torch.Tensor,
    *,
    epochs: int = 15,
    batch_size: int = 64,
    lr: float = 3e-3,
    weighted: bool = True,
    clip_norm: float | None = 1.0,
    seed: int = 0,
    desc: str = "training",
    progress: bool = True,
) -> TrainResult:
    """Train with Adam and (optionally class-weighted) cross-entropy; keep the best epoch.

    The best epoch is the one with the highest validation macro-F1; its weights are
    restored at the end (early stopping without stopping). Gradients are clipped to
    ``clip_norm`` (Pascanu et al., 2013), which keeps recurrent networks stable.
    """
    import time

    if len(x_train) != len(y_train) or len(x_val) != len(y_val):
        raise ValueError("x and y must have the same number of rows")
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}")
    device = next(model.parameters()).device
    n_classes = model.head.out_features
    weight = class_weights(y_train, n_classes).to(device) if weighted else None
    loss_fn = nn.CrossEntropyLoss(weight=weight)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(seed)
    history: dict[str, list[float]] = {"train_loss": [], "val_macro_f1": []}
    best_f1, best_epoch, best_state = -1.0, 0, None
    start = time.perf_counter()
    for epoch in tqdm(range(1, epochs + 1), desc=desc, disable=not progress, leave=False):
        model.train()
        order = torch.randperm(len(x_train), generator=generator)
        total = 0.0
        for i in range(0, len(order), batch_size):
            index = order[i : i + batch_size]
            inputs, targets = x_train[index].to(device), y_train[index].to(device)
            optimizer.zero_grad()
            loss = loss_fn(model(inputs), targets)
            loss.backward()
            if clip_norm is not None:
                nn.utils.clip_grad_norm_(model.parameters(), clip_norm)
            optimizer.step()
            total += loss.item() * len(index)
        f1 = macro_f1(y_val.cpu().numpy(), predict_classes(model, x_val), n_classes)
        history["train_loss"].append(total / len(order))
        history["val_macro_f1"].append(f1)
        if f1 > best_f1:
            best_f1, best_epoch, best_state = f1, epoch, copy.deepcopy(model.state_dict())
    model.load_state_dict(best_state)
    return TrainResult(model, best_epoch, history, time.perf_counter() - start)


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
