"""Tests for Chapter7/helpers.py: DNA models, baselines, intervals, in-silico mutagenesis."""

import numpy as np
import pytest
import torch
from chapter_modules import load_helpers

from bios740.datasets import dna

helpers = load_helpers(7)


def test_kmer_tokens_by_hand():
    codes = dna.encode(["ACGTA"])
    assert helpers.kmer_tokens(codes, 1).tolist() == [[0, 1, 2, 3, 0]]
    # ACG = 0*16 + 1*4 + 2 = 6, CGT = 1*16 + 2*4 + 3 = 27, GTA = 2*16 + 3*4 + 0 = 44
    assert helpers.kmer_tokens(codes, 3).tolist() == [[6, 27, 44]]
    with pytest.raises(ValueError, match="0..3"):
        helpers.kmer_tokens(np.array([[0, 5, 1]]), 2)


@pytest.mark.parametrize("positions", ["learned", "sinusoidal", "none"])
def test_dna_transformer_shapes_and_attention_maps(positions):
    torch.manual_seed(0)
    model = helpers.DNATransformer(40, k=5, pool=4, positions=positions).eval()
    codes = torch.randint(0, 4, (3, 40))
    assert model(codes).shape == (3,)
    maps = model.attention_maps()
    assert len(maps) == 2 and maps[0].shape == (3, 4, 10, 10)
    assert torch.allclose(maps[0].sum(-1), torch.ones(3, 4, 10), atol=1e-5)
    with pytest.raises(ValueError, match="base codes"):
        model(torch.randint(0, 4, (3, 41)))
    with pytest.raises(ValueError, match="multiple of pool"):
        helpers.DNATransformer(41, pool=4)


def test_transformer_without_positions_ignores_token_order():
    torch.manual_seed(1)
    model = helpers.DNATransformer(32, k=1, pool=4, positions="none", dropout=0.0).eval()
    codes = torch.randint(0, 4, (1, 32))
    blocks = codes.reshape(1, 8, 4)[:, torch.randperm(8)].reshape(1, 32)  # shuffle tokens
    with torch.no_grad():
        assert torch.allclose(model(codes), model(blocks), atol=1e-5)
    learned = helpers.DNATransformer(32, k=1, pool=4, positions="learned", dropout=0.0).eval()
    with torch.no_grad():
        assert not torch.allclose(learned(codes), learned(blocks), atol=1e-5)


def test_deepbind_cnn_shapes():
    model = helpers.DeepBindCNN(n_filters=8, width=5)
    assert model(torch.randint(0, 4, (2, 30))).shape == (2,)
    with pytest.raises(ValueError, match="base codes"):
        model(torch.zeros(2, 30, 4))


def test_bootstrap_interval_contains_the_estimate_and_pairs_differences():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400)
    good = y + rng.normal(0, 0.7, 400)
    bad = rng.normal(0, 1, 400)
    result = helpers.bootstrap_auroc(y, {"bad": bad, "good": good}, n_boot=200)
    value, low, high = result["good"]
    assert low < value < high and value > 0.75
    assert result[("difference", "good")][1] > 0.15  # lower bound of good - bad
    assert result[("difference", "bad")] == (0.0, 0.0, 0.0)


def test_additive_and_kmer_baselines_on_an_additive_task():
    rng = np.random.default_rng(1)
    codes = rng.integers(0, 4, (1500, 20))
    labels = ((codes[:, 5] == 0).astype(int) + (codes[:, 12] == 2) >= 1).astype(int)
    sequences = dna.decode(codes)
    model = helpers.additive_model(sequences[:1000], labels[:1000], C=1.0)
    assert helpers.auroc(helpers.additive_scores(model, sequences[1000:]), labels[1000:]) > 0.95
    kmer = helpers.kmer_model(sequences[:1000], labels[:1000], k_max=2, kind="logistic")
    assert helpers.kmer_scores(kmer, sequences[1000:], k_max=2).shape == (500,)
    with pytest.raises(ValueError, match="kind"):
        helpers.kmer_model(sequences[:10], labels[:10], kind="svm")


def test_in_silico_mutagenesis_matches_direct_evaluation():
    torch.manual_seed(2)
    model = helpers.DeepBindCNN(n_filters=4, width=3).eval()
    codes = np.random.default_rng(2).integers(0, 4, (2, 12))
    effects = helpers.in_silico_mutagenesis(model, codes)
    assert effects.shape == (2, 12, 4)
    assert np.allclose(effects[np.arange(2)[:, None], np.arange(12)[None], codes], 0)
    mutant = codes.copy()
    mutant[1, 7] = (codes[1, 7] + 1) % 4
    with torch.no_grad():
        direct = model(torch.as_tensor(mutant)) - model(torch.as_tensor(codes))
    assert effects[1, 7, mutant[1, 7]] == pytest.approx(direct[1].item(), abs=1e-5)


def test_strict_auroc_refuses_one_class():
    assert helpers.strict_auroc([0, 1, 1], [0.1, 0.9, 0.8]) == 1.0
    with pytest.raises(ValueError, match="both classes"):
        helpers.strict_auroc([1, 1], [0.2, 0.3])
