"""Unit tests for the shared course package (bios740): normal use and bad input."""

from __future__ import annotations

import hashlib
import socket
import threading

import matplotlib
import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

matplotlib.use("Agg")

from bios740 import device as device_module  # noqa: E402
from bios740.download import DataUnavailableError, download, file_hash  # noqa: E402
from bios740.environment import detect_environment, in_ci, in_colab  # noqa: E402
from bios740.paths import ENV_VAR, data_dir  # noqa: E402
from bios740.plotting import (  # noqa: E402
    confusion_matrix,
    plot_confusion_matrix,
    plot_history,
    show_images,
)
from bios740.seed import seed_everything  # noqa: E402
from bios740.training import History, accuracy, evaluate, fit, predict  # noqa: E402

# ------------------------------------------------------------------ device


def test_get_device_falls_back_to_cpu_and_reports(monkeypatch, capsys):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(device_module, "_mps_available", lambda: False)
    chosen = device_module.get_device()
    assert chosen == torch.device("cpu")
    line = capsys.readouterr().out.strip()
    assert line.startswith("Using device: cpu") and "\n" not in line


def test_get_device_prefers_mps_over_cpu(monkeypatch, capsys):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(device_module, "_mps_available", lambda: True)
    assert device_module.get_device(verbose=False).type == "mps"
    assert capsys.readouterr().out == ""


def test_get_device_prefers_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert device_module.get_device(verbose=False).type == "cuda"


def test_get_device_refuses_missing_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(RuntimeError, match="T4 GPU"):
        device_module.get_device("cuda")


@pytest.mark.parametrize("bad", [3, 1.5, ["cpu"]])
def test_get_device_rejects_wrong_types(bad):
    with pytest.raises(TypeError, match="preferred"):
        device_module.get_device(bad)


def test_get_device_rejects_unknown_names():
    with pytest.raises(ValueError, match="unknown device"):
        device_module.get_device("tpu")


def test_get_device_explicit_cpu():
    assert device_module.get_device("cpu", verbose=False) == torch.device("cpu")


# ------------------------------------------------------------------ seed


def test_seed_everything_repeats_all_generators():
    import random

    def draw():
        return random.random(), np.random.rand(), torch.rand(1).item()

    seed_everything(7)
    first = draw()
    seed_everything(7)
    assert draw() == first
    seed_everything(8)
    assert draw() != first


def test_seed_everything_deterministic_flag():
    seed_everything(0, deterministic=True)
    assert torch.are_deterministic_algorithms_enabled()
    seed_everything(0)
    assert not torch.are_deterministic_algorithms_enabled()


@pytest.mark.parametrize(
    "bad, error",
    [(-1, ValueError), (2**32, ValueError), (1.0, TypeError), ("1", TypeError), (True, TypeError)],
)
def test_seed_everything_rejects_bad_seeds(bad, error):
    with pytest.raises(error):
        seed_everything(bad)


# ------------------------------------------------------------------ environment


def test_detect_environment(monkeypatch):
    monkeypatch.delenv("COLAB_RELEASE_TAG", raising=False)
    monkeypatch.delitem(__import__("sys").modules, "google.colab", raising=False)
    monkeypatch.setenv("CI", "true")
    assert in_ci() and detect_environment() == "ci"
    monkeypatch.setenv("CI", "0")
    assert detect_environment() == "local"
    monkeypatch.setenv("COLAB_RELEASE_TAG", "release-colab-x")
    assert in_colab() and detect_environment() == "colab"


# ------------------------------------------------------------------ paths


def test_data_dir_honours_the_environment_variable(monkeypatch, tmp_path):
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "course-data"))
    assert data_dir() == tmp_path / "course-data"
    assert data_dir("mnist").is_dir()


def test_data_dir_default_is_inside_the_repository(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.delenv("COLAB_RELEASE_TAG", raising=False)
    path = data_dir(create=False)
    assert path.name == "data" and (path.parent / "bios740").is_dir()


def test_data_dir_on_colab_uses_drive(monkeypatch):
    from bios740 import paths

    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.setenv("COLAB_RELEASE_TAG", "x")
    assert str(paths.default_data_dir()).startswith("/content/")


@pytest.mark.parametrize("bad", ["", "../outside", "/etc", 5])
def test_data_dir_rejects_bad_names(monkeypatch, tmp_path, bad):
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    with pytest.raises(ValueError):
        data_dir(bad)


# ------------------------------------------------------------------ download


@pytest.fixture
def source_file(tmp_path):
    path = tmp_path / "source.bin"
    path.write_bytes(b"BIOS 740 test payload\n" * 100)
    return path


def test_download_verifies_and_reuses(tmp_path, source_file):
    digest = hashlib.sha256(source_file.read_bytes()).hexdigest()
    target = tmp_path / "out" / "copy.bin"
    result = download(source_file.as_uri(), target, sha256=digest, progress=False)
    assert result == target and target.read_bytes() == source_file.read_bytes()
    source_file.unlink()  # a verified copy is reused without touching the source
    assert download("file:///nowhere/missing.bin", target, sha256=digest, progress=False) == target


def test_download_md5(tmp_path, source_file):
    digest = hashlib.md5(source_file.read_bytes()).hexdigest()
    target = download(source_file.as_uri(), tmp_path / "m.bin", md5=digest, progress=False)
    assert file_hash(target, "md5") == digest


def test_download_rejects_a_checksum_mismatch_and_leaves_nothing(tmp_path, source_file):
    target = tmp_path / "bad.bin"
    with pytest.raises(DataUnavailableError, match="not the expected"):
        download(source_file.as_uri(), target, sha256="0" * 64, progress=False)
    assert not target.exists() and not list(tmp_path.glob("*.part"))


def test_download_flags_a_corrupt_existing_file(tmp_path):
    target = tmp_path / "existing.bin"
    target.write_bytes(b"old")
    with pytest.raises(DataUnavailableError, match="corrupt"):
        download("https://example.org/x.bin", target, sha256="1" * 64, progress=False)


def test_download_offline_says_what_to_do(tmp_path):
    with socket.socket() as probe:  # a port with nobody listening: refused at once
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    target = tmp_path / "images.npz"
    with pytest.raises(DataUnavailableError) as error:
        download(f"http://127.0.0.1:{port}/images.npz", target, timeout=2, progress=False)
    message = str(error.value)
    assert "images.npz" in message and str(target.resolve()) in message
    assert "BIOS740_DATA_DIR" in message


def test_download_times_out(tmp_path):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    accepted = []
    thread = threading.Thread(target=lambda: accepted.append(server.accept()), daemon=True)
    thread.start()
    try:
        with pytest.raises(DataUnavailableError, match="offline or the server"):
            download(
                f"http://127.0.0.1:{server.getsockname()[1]}/slow",
                tmp_path / "s",
                timeout=0.5,
                progress=False,
            )
    finally:
        for connection, _ in accepted:
            connection.close()
        server.close()


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"url": "not-a-url"}, "full address"),
        ({"timeout": 0}, "positive"),
        ({"sha256": "a", "md5": "b"}, "not both"),
    ],
)
def test_download_rejects_bad_arguments(tmp_path, kwargs, error):
    arguments = {"url": "https://example.org/f", "destination": tmp_path / "f", **kwargs}
    with pytest.raises(ValueError, match=error):
        download(**arguments)


# ------------------------------------------------------------------ training


def _toy_loaders(seed=0):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(200, 2, generator=generator)
    y = (x[:, 0] + 2 * x[:, 1] > 0).long()
    train = DataLoader(
        TensorDataset(x[:150], y[:150]), batch_size=32, shuffle=True, generator=generator
    )
    val = DataLoader(TensorDataset(x[150:], y[150:]), batch_size=64)
    return train, val


def test_fit_learns_and_records_history():
    seed_everything(0)
    train, val = _toy_loaders()
    model = nn.Linear(2, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    history = fit(
        model,
        train,
        nn.functional.cross_entropy,
        optimizer,
        epochs=15,
        val_loader=val,
        metrics={"accuracy": accuracy},
        progress=False,
    )
    assert history.epochs == 15
    assert set(history.keys()) == {"epoch", "train_loss", "lr", "val_loss", "val_accuracy"}
    assert history["train_loss"][-1] < 0.5 * history["train_loss"][0]
    assert history["val_accuracy"][-1] >= 0.9
    best_epoch, best_loss = history.best("val_loss")
    assert best_loss == min(history["val_loss"]) and 1 <= best_epoch <= 15
    assert (
        evaluate(model, val, nn.functional.cross_entropy, {"accuracy": accuracy})["accuracy"] >= 0.9
    )


def test_fit_is_repeatable():
    def run():
        seed_everything(3)
        train, _ = _toy_loaders(3)
        model = nn.Linear(2, 2)
        return fit(
            model,
            train,
            nn.functional.cross_entropy,
            torch.optim.Adam(model.parameters()),
            epochs=3,
            progress=False,
        )["train_loss"]

    assert run() == run()


def test_fit_rejects_bad_input():
    train, _ = _toy_loaders()
    model = nn.Linear(2, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="epochs"):
        fit(model, train, nn.functional.cross_entropy, optimizer, epochs=0)
    with pytest.raises(TypeError, match="nn.Module"):
        fit(lambda x: x, train, nn.functional.cross_entropy, optimizer, epochs=1)
    with pytest.raises(TypeError, match="optimizer"):
        fit(model, train, nn.functional.cross_entropy, "sgd", epochs=1)
    with pytest.raises(ValueError, match="pair"):
        fit(
            model,
            [torch.zeros(4, 2)],
            nn.functional.cross_entropy,
            optimizer,
            epochs=1,
            progress=False,
        )


def test_fit_stops_on_a_diverging_loss():
    x = torch.full((8, 2), 1e30)
    loader = DataLoader(TensorDataset(x, torch.zeros(8, 1)), batch_size=8)
    model = nn.Linear(2, 1)
    with pytest.raises(FloatingPointError, match="learning rate"):
        fit(
            model,
            loader,
            nn.functional.mse_loss,
            torch.optim.SGD(model.parameters(), lr=1e10),
            epochs=3,
            progress=False,
        )


def test_predict_and_accuracy():
    model = nn.Identity()
    outputs = torch.tensor([[2.0, 1.0], [0.0, 3.0], [1.0, 0.0]])
    targets = torch.tensor([0, 1, 1])
    loader = DataLoader(TensorDataset(outputs, targets), batch_size=2)
    predicted, seen = predict(
        nn.Sequential(model, nn.Identity()).requires_grad_(False), loader, torch.device("cpu")
    )
    assert torch.equal(predicted, outputs) and torch.equal(seen, targets)
    assert accuracy(outputs, targets) == pytest.approx(2 / 3)
    assert accuracy(torch.tensor([1.5, -0.2]), torch.tensor([1, 0])) == 1.0
    with pytest.raises(ValueError, match="predictions"):
        accuracy(outputs, targets[:2])
    with pytest.raises(ValueError, match="no batches"):
        predict(nn.Identity(), [], torch.device("cpu"))


def test_history_errors():
    history = History()
    history.append(epoch=1, train_loss=0.5)
    with pytest.raises(KeyError, match="recorded"):
        history["val_loss"]
    with pytest.raises(ValueError, match="mode"):
        history.best("train_loss", mode="biggest")


# ------------------------------------------------------------------ plotting


def _labels_of(fig):
    return [(ax.get_title(), ax.get_xlabel(), ax.get_ylabel()) for ax in fig.axes if ax.get_title()]


def test_plot_history_has_titles_and_labels():
    history = History()
    for epoch in range(1, 4):
        history.append(
            epoch=epoch, train_loss=1 / epoch, val_loss=1.2 / epoch, val_accuracy=0.5 + 0.1 * epoch
        )
    fig = plot_history(history, title="toy")
    assert fig._suptitle.get_text() == "toy"
    labels = _labels_of(fig)
    assert ("Loss", "epoch", "loss") in labels and ("Metrics", "epoch", "accuracy") in labels
    legends = [t.get_text() for ax in fig.axes if ax.get_legend() for t in ax.get_legend().texts]
    assert legends == ["training loss", "validation loss", "validation accuracy"]
    history.append(epoch=4, train_loss=0.2, val_loss=0.3, val_accuracy=0.9)
    history.records.setdefault("val_auc", [0.5, 0.6, 0.7, 0.8])
    fig = plot_history(history, loss_label="cross-entropy (nats per example)")
    labels = _labels_of(fig)
    assert ("Loss", "epoch", "cross-entropy (nats per example)") in labels
    assert ("Metrics", "epoch", "metric value") in labels
    with pytest.raises(KeyError, match="no"):
        plot_history(history, keys=["val_f1"])
    with pytest.raises(ValueError):
        plot_history({})


def test_show_images_accepts_common_layouts_and_rejects_others():
    for images in (
        np.zeros((3, 8, 8)),
        torch.zeros(3, 1, 8, 8),
        torch.zeros(3, 3, 8, 8),
        np.zeros((3, 8, 8, 3)),
    ):
        fig = show_images(images, titles=["a", "b", "c"], title="grid")
        assert fig._suptitle.get_text() == "grid"
    with pytest.raises(ValueError, match="shape"):
        show_images(np.zeros((8, 8)))
    with pytest.raises(ValueError, match="titles"):
        show_images(np.zeros((2, 8, 8)), titles=["one"])
    with pytest.raises(ValueError, match="no images"):
        show_images(np.zeros((0, 8, 8)))


def test_confusion_matrix_counts_and_plot():
    y_true = [0, 0, 1, 1, 2]
    y_pred = [0, 1, 1, 1, 0]
    matrix = confusion_matrix(y_true, y_pred)
    assert matrix.tolist() == [[1, 1, 0], [0, 2, 0], [1, 0, 0]]
    fig = plot_confusion_matrix(y_true, y_pred, class_names=["N", "S", "V"], normalize=True)
    ax = fig.axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == (
        "predicted class",
        "true class",
        "Confusion matrix",
    )
    with pytest.raises(ValueError, match="labels"):
        confusion_matrix([0, 1], [0])
    with pytest.raises(ValueError, match="non-negative"):
        confusion_matrix([-1, 0], [0, 0])
