"""The course training loop's options: augmentation, clipping, best epoch, schedulers."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from bios740.training import balanced_class_weights, fit, predict, tensor_loader


def _problem(seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(96, 3, generator=generator)
    y = (x @ torch.tensor([1.0, -2.0, 0.5]) > 0).long()
    return x, y


def test_transform_sees_training_batches_only():
    x, y = _problem()
    seen = []

    def transform(inputs):
        seen.append(inputs.shape[0])
        return inputs

    model = nn.Linear(3, 2)
    fit(
        model,
        tensor_loader(x[:64], y[:64], batch_size=30, shuffle=True),
        nn.CrossEntropyLoss(),
        torch.optim.SGD(model.parameters(), lr=0.1),
        epochs=2,
        val_loader=tensor_loader(x[64:], y[64:], batch_size=100),
        transform=transform,
        progress=False,
    )
    assert seen == [30, 30, 4] * 2  # every training batch, partial one included, no val


def test_clipping_bounds_each_update():
    x, y = _problem()
    model = nn.Linear(3, 2)
    before = [p.detach().clone() for p in model.parameters()]
    fit(
        model,
        tensor_loader(x * 1e4, y, batch_size=96),
        nn.CrossEntropyLoss(),
        torch.optim.SGD(model.parameters(), lr=1.0),
        epochs=1,
        clip_grad_norm=0.01,
        progress=False,
    )
    step = torch.cat([(p - b).flatten() for p, b in zip(model.parameters(), before, strict=True)])
    assert step.norm() <= 0.01 + 1e-6


def test_best_epoch_weights_are_restored():
    x, y = _problem()
    model = nn.Linear(3, 2)
    states = []

    def accuracy_and_snapshot(outputs, targets):
        states.append({k: v.clone() for k, v in model.state_dict().items()})
        return (outputs.argmax(1) == targets).float().mean().item()

    history = fit(
        model,
        tensor_loader(x[:64], y[:64], batch_size=16, shuffle=True, seed=3),
        nn.CrossEntropyLoss(),
        torch.optim.SGD(model.parameters(), lr=5.0),  # large steps: validation jumps around
        epochs=6,
        val_loader=tensor_loader(x[64:], y[64:], batch_size=64),
        metrics={"acc": accuracy_and_snapshot},
        best_on="val_loss",
        progress=False,
    )
    best = min(range(6), key=history["val_loss"].__getitem__)
    assert history.best_epoch == best + 1
    for key, value in model.state_dict().items():
        assert torch.equal(value, states[best][key])


def test_batch_scheduler_steps_every_batch():
    x, y = _problem()
    model = nn.Linear(3, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    fit(
        model,
        tensor_loader(x, y, batch_size=32),
        nn.CrossEntropyLoss(),
        optimizer,
        epochs=1,
        scheduler=scheduler,
        scheduler_step="batch",
        progress=False,
    )
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.5**3)


def test_bad_arguments_are_explained():
    x, y = _problem()
    model = nn.Linear(3, 2)
    loader = tensor_loader(x, y)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="needs a val_loader"):
        fit(model, loader, nn.CrossEntropyLoss(), optimizer, epochs=1, best_on="val_loss")
    with pytest.raises(ValueError, match="scheduler_step"):
        fit(model, loader, nn.CrossEntropyLoss(), optimizer, epochs=1, scheduler_step="step")
    with pytest.raises(ValueError, match="pair up"):
        tensor_loader(x, y[:5])


def test_balanced_class_weights_give_every_class_the_same_total():
    targets = torch.tensor([0] * 80 + [1] * 15 + [2] * 5)
    weights = balanced_class_weights(targets)
    totals = torch.bincount(targets).float() * weights
    assert torch.allclose(totals, torch.full((3,), 100 / 3))
    assert balanced_class_weights(torch.tensor([0, 0, 2]), n_classes=4)[[1, 3]].tolist() == [0, 0]
    with pytest.raises(ValueError, match="class indices"):
        balanced_class_weights(torch.tensor([0.0, 1.0]))


def test_tensor_loader_shuffles_reproducibly():
    x, y = _problem()
    first = [b[1] for b in tensor_loader(x, y, batch_size=96, shuffle=True, seed=5)][0]
    again = [b[1] for b in tensor_loader(x, y, batch_size=96, shuffle=True, seed=5)][0]
    other = [b[1] for b in tensor_loader(x, y, batch_size=96, shuffle=True, seed=6)][0]
    assert torch.equal(first, again) and not torch.equal(first, other)
    outputs, targets = predict(nn.Linear(3, 2), tensor_loader(x, y, batch_size=40))
    assert outputs.shape == (96, 2) and torch.equal(targets, y)
