"""Tests of Chapter12/helpers.py: schedules and the closed-form forward process."""

import math

import numpy as np
import pytest
import torch
from chapter_modules import load_helpers
from diffusers import DDPMScheduler

helpers = load_helpers(12)


@pytest.mark.parametrize("name", ["linear", "squaredcos_cap_v2"])
def test_schedules_match_diffusers(name):
    betas = helpers.linear_betas(50) if name == "linear" else helpers.cosine_betas(50)
    library = DDPMScheduler(num_train_timesteps=50, beta_schedule=name)
    assert torch.allclose(betas.float(), library.betas, atol=1e-7)
    assert torch.allclose(helpers.alpha_bars(betas).float(), library.alphas_cumprod, atol=1e-6)


def test_cosine_schedule_follows_its_formula_and_is_clipped():
    betas = helpers.cosine_betas(10, offset=0.0)
    bar = helpers.alpha_bars(betas)
    # Without clipping abar_t would be cos^2(pi/2 (t+1)/T); the last step is clipped.
    expected = torch.cos(torch.arange(1, 10, dtype=torch.float64) / 10 * math.pi / 2) ** 2
    assert torch.allclose(bar[:-1], expected, atol=1e-12)
    assert betas[-1] == 0.999


def test_q_sample_is_the_closed_form_and_checks_its_input():
    bar = helpers.alpha_bars(helpers.linear_betas(100))
    x0, noise = torch.ones(3, 2), torch.zeros(3, 2)
    t = torch.tensor([0, 50, 99])
    out = helpers.q_sample(x0, t, noise, bar)
    assert torch.allclose(out[:, 0].double(), bar[t].sqrt(), atol=1e-7)
    noisy = helpers.q_sample(torch.zeros(3, 2), t, torch.ones(3, 2), bar)
    assert torch.allclose(noisy[:, 0].double(), (1 - bar[t]).sqrt(), atol=1e-7)
    with pytest.raises(ValueError, match="integer tensor"):
        helpers.q_sample(x0, t.float(), noise, bar)
    with pytest.raises(ValueError, match="must lie in 0..99"):
        helpers.q_sample(x0, torch.tensor([0, 1, 100]), noise, bar)
    with pytest.raises(ValueError, match="shaped like x0"):
        helpers.q_sample(x0, t, torch.zeros(3, 3), bar)
    with pytest.raises(TypeError, match="torch tensors"):
        helpers.q_sample(x0.numpy(), t, noise, bar)


def test_bad_schedules_and_toy_data_are_rejected():
    with pytest.raises(ValueError, match="beta_start < beta_end"):
        helpers.linear_betas(10, beta_start=0.1, beta_end=0.01)
    with pytest.raises(TypeError, match="n_steps must be an integer"):
        helpers.cosine_betas(10.0)
    with pytest.raises(ValueError, match="every value in"):
        helpers.alpha_bars(torch.tensor([0.1, 1.0]))
    roll = helpers.swiss_roll(2000, seed=1)
    assert roll.shape == (2000, 2) and abs(roll.std().item() - 1) < 0.05
    assert torch.equal(roll, helpers.swiss_roll(2000, seed=1))
    with pytest.raises(ValueError, match="positive integer"):
        helpers.swiss_roll(0)
    log_snr = helpers.log_snr(torch.tensor([0.5]))
    assert abs(log_snr.item()) < 1e-12


def test_two_swiss_roll_samples_are_one_distribution():
    from bios740.generative_metrics import classifier_two_sample_test

    result = classifier_two_sample_test(
        helpers.swiss_roll(2000, seed=5).numpy(), helpers.swiss_roll(2000, seed=99).numpy()
    )
    assert result["low"] < 0.5 < result["high"] + 0.02


def test_distance_to_data_separates_precision_from_recall():
    import numpy as np

    reference = helpers.swiss_roll(1000, seed=1).numpy()
    fresh = helpers.swiss_roll(1000, seed=2).numpy()
    collapsed = np.repeat(reference[:1], 1000, axis=0) + 1e-3  # one point, on the data
    fresh_to, fresh_back = helpers.distance_to_data(fresh, reference)
    col_to, col_back = helpers.distance_to_data(collapsed, reference)
    assert np.median(col_to) < np.median(fresh_to)  # precise ...
    assert np.median(col_back) > 10 * np.median(fresh_back)  # ... but covers nothing
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        helpers.distance_to_data(fresh[:, :1], reference)
    with pytest.raises(ValueError, match="NaN"):
        helpers.distance_to_data(np.full((3, 2), np.nan), reference)


def test_conditional_denoiser_learns_two_classes_and_guidance_separates_them():
    # Two classes at -2 and +2 along the first axis in 3-D; a short training suffices.
    generator = torch.Generator().manual_seed(0)
    labels = torch.arange(400) % 2
    points = torch.randn(400, 3, generator=generator) * 0.3
    points[:, 0] += 4 * labels - 2
    alpha_bar = helpers.alpha_bars(helpers.linear_betas(200)).float()
    model, losses = helpers.train_conditional_denoiser(
        points, labels, alpha_bar, n_classes=2, train_steps=600, hidden=64, lr=3e-3, seed=0
    )
    assert np.mean(losses[-50:]) < 0.6 * np.mean(losses[:50])
    wanted = torch.tensor([0] * 100 + [1] * 100)
    samples = helpers.sample_conditional(model, wanted, alpha_bar, sampling_steps=20, seed=1)
    assert samples.shape == (200, 3) and torch.isfinite(samples).all()
    assert samples[:100, 0].mean() < -1 and samples[100:, 0].mean() > 1  # the label is obeyed
    again = helpers.sample_conditional(model, wanted, alpha_bar, sampling_steps=20, seed=1)
    assert torch.equal(samples, again)  # the seed fixes the draw
    # w = -1 is the unconditional model: both "classes" then give the same draws.
    unconditional = [
        helpers.sample_conditional(model, [c] * 100, alpha_bar, 20, guidance=-1.0, seed=2)
        for c in (0, 1)
    ]
    assert torch.allclose(*unconditional, atol=1e-5)
    guided = helpers.sample_conditional(model, wanted, alpha_bar, 20, guidance=2.0, seed=1)
    assert (
        guided[100:, 0].mean() - guided[:100, 0].mean()
        > samples[100:, 0].mean() - samples[:100, 0].mean()
    )  # guidance pushes the classes apart


def test_conditional_helpers_reject_bad_input():
    model = helpers.ConditionalDenoiser(dim=3, n_classes=2, hidden=8)
    with pytest.raises(ValueError, match=r"x must be \(N, 3\)"):
        model(torch.zeros(4, 2), torch.zeros(4, dtype=torch.long), torch.zeros(4, dtype=torch.long))
    with pytest.raises(ValueError, match="2 is the null label"):
        model(torch.zeros(4, 3), torch.zeros(4, dtype=torch.long), torch.full((4,), 3))
    alpha_bar = helpers.alpha_bars(helpers.linear_betas(50)).float()
    with pytest.raises(ValueError, match="labels must be a"):
        helpers.train_conditional_denoiser(torch.zeros(4, 3), torch.zeros(3), alpha_bar, 2)
    with pytest.raises(ValueError, match="label_dropout"):
        helpers.train_conditional_denoiser(
            torch.zeros(4, 3), torch.zeros(4, dtype=torch.long), alpha_bar, 2, label_dropout=1
        )
    with pytest.raises(ValueError, match="non-empty"):
        helpers.sample_conditional(model, [], alpha_bar)


def _tiny_images(n=12, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.rand((n, 1, 8, 8), generator=generator) * 2 - 1, torch.arange(n) % 2


def test_conditional_helpers_train_and_sample_a_class_conditional_unet():
    from bios740.unet import UNet

    images, labels = _tiny_images()
    alpha_bar = helpers.alpha_bars(helpers.cosine_betas(50)).float()
    torch.manual_seed(0)
    net = UNet(1, 1, base_channels=4, depth=1, time_embedding_dim=8, n_classes=2)
    before = [p.detach().clone() for p in net.parameters()]
    trained, losses = helpers.train_conditional_denoiser(
        images, labels, alpha_bar, n_classes=2, train_steps=3, batch_size=4, model=net
    )
    assert trained is net and len(losses) == 3 and not trained.training
    assert any(not torch.equal(a, b) for a, b in zip(before, net.parameters(), strict=True))
    draws = [
        helpers.sample_conditional(
            net, [0, 1, 1], alpha_bar, 4, guidance=w, seed=3, sample_shape=(1, 8, 8)
        )
        for w in (0.0, 0.0, 2.0)
    ]
    assert draws[0].shape == (3, 1, 8, 8) and torch.isfinite(draws[0]).all()
    assert torch.equal(draws[0], draws[1]) and not torch.equal(draws[0], draws[2])
    with pytest.raises(ValueError, match="n_classes=3"):
        helpers.train_conditional_denoiser(images, labels, alpha_bar, n_classes=3, model=net)
    with pytest.raises(ValueError, match="without a model"):
        helpers.train_conditional_denoiser(images, labels, alpha_bar, n_classes=2)


def test_slice_denoiser_checkpoint_round_trip_and_errors(tmp_path):
    model = helpers.build_slice_denoiser()
    path = helpers.save_slice_denoiser(model, tmp_path / "d.pt", {"steps": 7, "path": tmp_path})
    loaded, info = helpers.load_slice_denoiser(path)
    assert info == {"steps": 7, "path": str(tmp_path)}  # stored as plain types
    x, t, y = torch.randn(2, 1, 32, 32), torch.tensor([5, 900]), torch.tensor([0, 2])
    with torch.no_grad():  # float16 storage: outputs agree to about 1e-3
        assert torch.allclose(model.eval()(x, t, y), loaded(x, t, y), atol=2e-2)
    assert not loaded.training
    with pytest.raises(FileNotFoundError, match="train_slice_denoiser.py"):
        helpers.load_slice_denoiser(tmp_path / "missing.pt")
    torch.save({"settings": {"base_channels": 8}, "state": {}, "info": {}}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="rerun"):
        helpers.load_slice_denoiser(tmp_path / "other.pt")
    with pytest.raises(TypeError, match="UNet"):
        helpers.save_slice_denoiser(torch.nn.Linear(2, 2), tmp_path / "x.pt", {})


def test_committed_checkpoint_is_small_and_made_by_the_script():
    import ast
    import re

    assert helpers.CHECKPOINT.is_file(), "run Chapter12/train_slice_denoiser.py"
    assert helpers.CHECKPOINT.stat().st_size < 1_000_000
    model, info = helpers.load_slice_denoiser()
    script = (helpers.CHECKPOINT.parent / "train_slice_denoiser.py").read_text()
    defaults = ast.literal_eval(re.search(r"DEFAULTS = (\{.*?\})", script).group(1))
    assert {key: info[key] for key in defaults} == defaults
    assert info["data"] == helpers.SLICE_DATA
    # Training lowered the loss: the last window's mean is well below the first's.
    assert info["loss_curve"][-1] < 0.5 * info["loss_curve"][0]


def test_training_script_is_reproducible(tmp_path):
    import subprocess
    import sys

    folder = helpers.CHECKPOINT.parent
    outputs = [tmp_path / "a.pt", tmp_path / "b.pt"]
    for out in outputs:
        subprocess.run(
            [sys.executable, "train_slice_denoiser.py", "--steps", "2", "--out", str(out)],
            cwd=folder, check=True, capture_output=True, timeout=300,
        )  # fmt: skip
    first, second = (torch.load(out, weights_only=True) for out in outputs)
    assert first["info"]["steps"] == 2 and first["settings"] == helpers.SLICE_DENOISER
    assert all(torch.equal(first["state"][k], second["state"][k]) for k in first["state"])
