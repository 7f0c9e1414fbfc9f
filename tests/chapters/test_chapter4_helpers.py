"""Tests for Chapter4/helpers.py: heartbeat models, class weights, metrics, training."""

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


def test_class_weights_balance_the_loss():
    y = np.array([0] * 80 + [1] * 15 + [2] * 5)
    weights = helpers.class_weights(y, 3)
    counts = np.bincount(y)
    assert np.allclose(weights.numpy() * counts, counts.sum() / 3)
    assert float((weights[torch.as_tensor(y)]).mean()) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="no training samples"):
        helpers.class_weights(np.array([0, 0, 2]), 3)


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
    result = helpers.train_classifier(
        model, x[:180], y[:180], x[180:], y[180:], epochs=20, batch_size=32, lr=0.01, progress=False
    )
    f1 = helpers.macro_f1(y[180:].numpy(), helpers.predict_classes(result.model, x[180:]), 3)
    assert f1 == pytest.approx(max(result.history["val_macro_f1"]))
    assert f1 > 0.9
    with pytest.raises(ValueError, match="same number of rows"):
        helpers.train_classifier(model, x[:10], y[:9], x[:5], y[:5], epochs=1)


def test_input_gradient_norms_shape():
    model = helpers.RecurrentClassifier("rnn", 3, 5, hidden_size=8)
    norms = helpers.input_gradient_norms(
        model, torch.randn(6, 15, 3), torch.zeros(6, dtype=torch.long)
    )
    assert norms.shape == (15,) and (norms >= 0).all() and norms[-1] > 0
