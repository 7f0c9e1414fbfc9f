"""A small, readable training loop shared by the chapters.

Chapter 1 writes the loop out by hand once; every later model that is not itself the
lesson trains with :func:`fit` (augmentation, class weights, gradient clipping and
keeping the best epoch included), so that the lecture can focus on the model. ``fit`` returns a :class:`History` of the losses
and metrics per epoch, which :func:`bios740.plotting.plot_history` draws.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from tqdm.auto import tqdm

Metric = Callable[[torch.Tensor, torch.Tensor], float]


@dataclass
class History:
    """Per-epoch records: ``history["train_loss"]`` is a list with one value per epoch."""

    records: dict[str, list[float]] = field(default_factory=dict)
    best_epoch: int | None = None

    def append(self, **values: float) -> None:
        """Add one epoch's values."""
        for key, value in values.items():
            self.records.setdefault(key, []).append(float(value))

    def __getitem__(self, key: str) -> list[float]:
        if key not in self.records:
            raise KeyError(f"no record {key!r}; recorded: {sorted(self.records)}")
        return self.records[key]

    def __contains__(self, key: str) -> bool:
        return key in self.records

    def keys(self) -> list[str]:
        """Names of the recorded quantities."""
        return list(self.records)

    @property
    def epochs(self) -> int:
        """Number of completed epochs."""
        return len(self.records.get("epoch", []))

    def best(self, key: str, mode: str = "min") -> tuple[int, float]:
        """Return ``(epoch, value)`` of the best value of ``key`` (``mode`` "min" or "max")."""
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        values = self[key]
        pick = min if mode == "min" else max
        index = pick(range(len(values)), key=values.__getitem__)
        return int(self.records["epoch"][index]), values[index]


def _to_device(batch, device: torch.device):
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, (list, tuple)):
        return type(batch)(_to_device(item, device) for item in batch)
    raise TypeError(
        f"a batch must be a tensor or a tuple (inputs, targets) of tensors, not {type(batch).__name__}"
    )


def _split(batch) -> tuple[torch.Tensor, torch.Tensor]:
    if not isinstance(batch, (list, tuple)) or len(batch) != 2:
        raise ValueError(
            "each batch must be a pair (inputs, targets); wrap your Dataset so that "
            "__getitem__ returns (x, y)"
        )
    return batch[0], batch[1]


def _model_device(model: nn.Module) -> torch.device:
    parameter = next(model.parameters(), None)
    return parameter.device if parameter is not None else torch.device("cpu")


@torch.no_grad()
def predict(
    model: nn.Module, loader: Iterable, device: torch.device | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Run ``model`` in eval mode over ``loader``; return (outputs, targets) on the CPU."""
    device = device or _model_device(model)
    model.eval()
    outputs, targets = [], []
    for batch in loader:
        inputs, target = _split(_to_device(batch, device))
        outputs.append(model(inputs).detach().cpu())
        targets.append(target.detach().cpu())
    if not outputs:
        raise ValueError("the loader yielded no batches")
    return torch.cat(outputs), torch.cat(targets)


def evaluate(
    model: nn.Module,
    loader: Iterable,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    metrics: Mapping[str, Metric] | None = None,
    device: torch.device | None = None,
) -> dict[str, float]:
    """Mean loss and each metric over a whole loader (metrics see all outputs at once)."""
    outputs, targets = predict(model, loader, device)
    results = {"loss": float(loss_fn(outputs, targets))}
    for name, metric in (metrics or {}).items():
        results[name] = float(metric(outputs, targets))
    return results


def tensor_loader(
    inputs: torch.Tensor,
    targets: torch.Tensor,
    *,
    batch_size: int = 64,
    shuffle: bool = False,
    seed: int = 0,
    drop_last: bool = False,
) -> DataLoader:
    """A DataLoader over in-memory tensors, shuffled reproducibly from ``seed``.

    Raises:
        ValueError: ``inputs`` and ``targets`` have different numbers of rows.
    """
    if len(inputs) != len(targets):
        raise ValueError(f"{len(inputs)} inputs but {len(targets)} targets: they must pair up")
    generator = torch.Generator().manual_seed(seed) if shuffle else None
    return DataLoader(
        TensorDataset(inputs, targets),
        batch_size=batch_size,
        shuffle=shuffle,
        generator=generator,
        drop_last=drop_last,
    )


def balanced_class_weights(targets: torch.Tensor, n_classes: int | None = None) -> torch.Tensor:
    """Class weights ``n / (K n_k)``: every class's examples together weigh ``n / K``.

    Pass them to ``nn.CrossEntropyLoss(weight=...)`` so that rare classes count as much
    in the loss as common ones. A class absent from ``targets`` gets weight 0.

    Raises:
        ValueError: ``targets`` is not a 1-D tensor of class indices.
    """
    if not isinstance(targets, torch.Tensor) or targets.ndim != 1 or targets.is_floating_point():
        raise ValueError("targets must be a 1-D integer tensor of class indices")
    n_classes = int(targets.max()) + 1 if n_classes is None else n_classes
    counts = torch.bincount(targets.cpu(), minlength=n_classes).double()
    weights = torch.where(counts > 0, len(targets) / (n_classes * counts.clamp(min=1)), 0.0)
    return weights.float()


def fit(
    model: nn.Module,
    train_loader: Iterable,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    optimizer: torch.optim.Optimizer,
    *,
    epochs: int,
    val_loader: Iterable | None = None,
    metrics: Mapping[str, Metric] | None = None,
    device: torch.device | None = None,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
    scheduler_step: str = "epoch",
    transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
    clip_grad_norm: float | None = None,
    best_on: str | None = None,
    mode: str = "min",
    progress: bool = True,
    desc: str = "training",
) -> History:
    """Train ``model`` for ``epochs`` epochs and return its :class:`History`.

    Each epoch records ``epoch``, ``train_loss`` (mean over samples), ``lr`` and, with a
    validation loader, ``val_loss`` and ``val_<name>`` for each metric. A metric is a
    function ``(outputs, targets) -> float`` evaluated on the whole validation set.

    Args:
        scheduler: a learning-rate scheduler, stepped once per epoch, or once per batch
            with ``scheduler_step="batch"`` (e.g. ``OneCycleLR``).
        transform: applied to each training batch's inputs on the device (augmentation);
            never to validation data.
        clip_grad_norm: clip the gradients' total norm to this value before each step
            (Pascanu et al., 2013); None leaves them as they are.
        best_on: a recorded validation quantity (e.g. ``"val_loss"``, ``"val_auc"``).
            At the end the model gets back the weights of the epoch where it was best
            (``mode`` "min" or "max"): early stopping without stopping. The history
            records that epoch as ``history.best_epoch``.

    Raises:
        TypeError, ValueError: on arguments that cannot work, with what to pass instead.
        FloatingPointError: the training loss became inf or nan.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, not {type(model).__name__}")
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}")
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(
            "optimizer must be a torch.optim.Optimizer, e.g. torch.optim.Adam(model.parameters())"
        )
    if scheduler_step not in ("epoch", "batch"):
        raise ValueError(f"scheduler_step must be 'epoch' or 'batch', got {scheduler_step!r}")
    if mode not in ("min", "max"):
        raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
    if best_on is not None and (val_loader is None or not best_on.startswith("val_")):
        raise ValueError(
            f"best_on={best_on!r} needs a val_loader and a validation quantity such as "
            "'val_loss' or 'val_<metric name>'"
        )
    device = device or _model_device(model)
    model.to(device)
    history = History()
    best_value, best_state = None, None
    bar = tqdm(range(1, epochs + 1), desc=desc, disable=not progress)
    for epoch in bar:
        model.train()
        total, count = 0.0, 0
        for batch in train_loader:
            inputs, targets = _split(_to_device(batch, device))
            if transform is not None:
                inputs = transform(inputs)
            optimizer.zero_grad()
            loss = loss_fn(model(inputs), targets)
            if not torch.isfinite(loss):
                raise FloatingPointError(
                    f"the training loss became {loss.item()} in epoch {epoch}; lower the "
                    "learning rate, clip gradients or check the inputs for inf/nan"
                )
            loss.backward()
            if clip_grad_norm is not None:
                nn.utils.clip_grad_norm_(model.parameters(), clip_grad_norm)
            optimizer.step()
            if scheduler is not None and scheduler_step == "batch":
                scheduler.step()
            total += loss.item() * len(targets)
            count += len(targets)
        if count == 0:
            raise ValueError("the training loader yielded no batches")
        record = {
            "epoch": epoch,
            "train_loss": total / count,
            "lr": optimizer.param_groups[0]["lr"],
        }
        if val_loader is not None:
            for name, value in evaluate(model, val_loader, loss_fn, metrics, device).items():
                record[f"val_{name}"] = value
        history.append(**record)
        if best_on is not None:
            if best_on not in record:
                raise KeyError(f"best_on={best_on!r} is not recorded; recorded: {sorted(record)}")
            value = record[best_on]
            if best_value is None or (value < best_value if mode == "min" else value > best_value):
                best_value, history.best_epoch = value, epoch
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        if scheduler is not None and scheduler_step == "epoch":
            scheduler.step()
        bar.set_postfix({k: f"{v:.4g}" for k, v in record.items() if k not in ("epoch", "lr")})
    if best_state is not None:
        model.load_state_dict(best_state)
    return history


def accuracy(outputs: torch.Tensor, targets: torch.Tensor) -> float:
    """Share of correct predictions: argmax for several classes, logit > 0 for one."""
    if outputs.ndim == 2 and outputs.shape[1] > 1:
        predicted = outputs.argmax(dim=1)
    else:
        predicted = (outputs.reshape(-1) > 0).long()
        targets = targets.reshape(-1)
    if predicted.shape[0] != targets.shape[0]:
        raise ValueError(f"{predicted.shape[0]} predictions but {targets.shape[0]} targets")
    return (predicted == targets.long()).float().mean().item()
