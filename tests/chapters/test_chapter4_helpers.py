"""Tests for Chapter4/helpers.py: heartbeat models, features, metrics with intervals, training."""

import numpy as np
import pytest
import torch
from chapter_modules import load_helpers  # noqa: E402

helpers = load_helpers(4)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_recurrent_classifier_shapes(kind, bidirectional):
    model = helpers.RecurrentClassifier(kind, 3, 5, hidden_size=8, bidirectional=bidirectional)
    assert model(torch.randn(4, 20, 3)).shape == (4, 5)


def test_conv_classifier_shapes_and_errors():
    model = helpers.ConvClassifier(3, 5, width=8)
    assert model(torch.randn(4, 44, 3)).shape == (4, 5)
    with pytest.raises(ValueError, match="batch, time, channels"):
        model(torch.randn(44, 3))
    with pytest.raises(ValueError, match="kind"):
        helpers.RecurrentClassifier("transformer", 3, 5)
    with pytest.raises(ValueError, match="n_classes"):
        helpers.RecurrentClassifier("rnn", 3, 0)


def test_classifier_uses_last_state_of_the_recurrence():
    torch.manual_seed(0)
    model = helpers.RecurrentClassifier("gru", 2, 3, hidden_size=6)
    x = torch.randn(2, 10, 2)
    outputs, _ = model.recurrent(x)
    assert torch.allclose(model(x), model.head(outputs[:, -1]), atol=1e-6)


def test_bootstrap_by_patient_resamples_patients():
    rng = np.random.default_rng(0)
    patients = np.repeat(np.array(["a", "b", "c", "d", "e", "f"]), 50)
    y_true = rng.integers(0, 3, patients.size)
    perfect = helpers.bootstrap_by_patient(y_true, y_true, patients, 3, n_boot=200)
    assert perfect == (1.0, 1.0, 1.0)
    # One patient's beats all wrong: the interval must be wide, since that patient may
    # be drawn zero times or several times.
    y_pred = np.where(patients == "a", (y_true + 1) % 3, y_true)
    estimate, low, high = helpers.bootstrap_by_patient(y_true, y_pred, patients, 3, n_boot=500)
    assert low < estimate < high and high == 1.0 and low < 0.75
    with pytest.raises(ValueError, match="two patients"):
        helpers.bootstrap_by_patient(y_true[:5], y_true[:5], patients[:5], 3)


def test_beat_features_read_intervals_and_morphology():
    from bios740.datasets.ecg import BeatSet

    fs, n = 62.5, 3
    t = (np.arange(44) - round(0.25 * fs)) / fs
    x = np.zeros((n, 44, 3), np.float32)
    x[:, :, 0] = np.exp(-0.5 * (t / 0.02) ** 2)  # a narrow QRS
    x[1, :, 0] = np.exp(-0.5 * (t / 0.05) ** 2)  # a wide one
    rr = np.array([[0.8, 0.8, 0.8], [0.5, 1.1, 0.8], [0.6, 0.8, 0.8]], np.float32)
    beats = BeatSet(x, np.zeros(n, np.int64), np.array(["p"] * n), np.arange(n), ("N",), fs, rr)
    features = helpers.beat_features(beats)
    assert features.shape[0] == n and np.isfinite(features).all()
    assert np.allclose(features[:, :3], rr) and np.allclose(features[1, 3:5], [0.625, 1.375])
    assert features[1, 5] > 1.5 * features[0, 5]  # QRS width estimate
    with pytest.raises(ValueError, match="rr_s"):
        helpers.beat_features(BeatSet(x, beats.y, beats.patient, beats.r_sample, ("N",), fs))


def test_metrics_against_scikit_learn():
    from sklearn.metrics import f1_score, recall_score

    rng = np.random.default_rng(0)
    y_true, y_pred = rng.integers(0, 4, 200), rng.integers(0, 4, 200)
    assert helpers.macro_f1(y_true, y_pred, 4) == pytest.approx(
        f1_score(y_true, y_pred, average="macro")
    )
    assert np.allclose(
        helpers.per_class_recall(y_true, y_pred, 4), recall_score(y_true, y_pred, average=None)
    )


def test_training_learns_a_separable_sequence_task_and_restores_best_epoch():
    torch.manual_seed(0)
    n, steps = 240, 12
    y = torch.arange(n) % 3
    x = torch.randn(n, steps, 1) * 0.1
    x[:, 8, 0] += 2 * (y.float() - 1)  # the class shows at one time step
    model = helpers.RecurrentClassifier("gru", 1, 3, hidden_size=16)
    result = helpers.train_beat_classifier(
        model, x[:180], y[:180], x[180:], y[180:], epochs=20, batch_size=32, lr=0.01, progress=False
    )
    f1 = helpers.macro_f1(y[180:].numpy(), helpers.predict_classes(result.model, x[180:]), 3)
    assert f1 == pytest.approx(max(result.history["val_macro_f1"]))
    assert f1 > 0.9
    with pytest.raises(ValueError, match="same number of rows"):
        helpers.train_beat_classifier(model, x[:10], y[:9], x[:5], y[:5], epochs=1)


def test_input_gradient_norms_shape():
    model = helpers.RecurrentClassifier("rnn", 3, 5, hidden_size=8)
    norms = helpers.input_gradient_norms(
        model, torch.randn(6, 15, 3), torch.zeros(6, dtype=torch.long)
    )
    assert norms.shape == (15,) and (norms >= 0).all() and norms[-1] > 0
