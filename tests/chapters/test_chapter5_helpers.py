"""Tests for Chapter5/helpers.py: metrics, intervals, graph models, baselines."""

import numpy as np
import pytest
import torch
from chapter_modules import load_helpers  # noqa: E402

pytest.importorskip("torch_geometric")
helpers = load_helpers(5)

from bios740.datasets import graphs, molecules  # noqa: E402


def test_rmse_and_bootstrap_intervals():
    assert helpers.rmse([0, 0, 0, 0], [1, -1, 1, -1]) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="equal"):
        helpers.rmse([1, 2], [1])
    rng = np.random.default_rng(0)
    y = rng.normal(size=400)
    good, bad = y + 0.1 * rng.normal(size=400), y + rng.normal(size=400)
    result = helpers.bootstrap_metric(helpers.rmse, y, {"good": good, "bad": bad}, n_boot=300)
    point, low, high, samples = result["good"]
    assert low < point < high and samples.shape == (300,)
    assert result["bad"][1] > result["good"][2]  # clearly separated intervals
    # paired: the same resamples for both models
    again = helpers.bootstrap_metric(helpers.rmse, y, {"good": good}, n_boot=300)
    assert np.array_equal(again["good"][3], samples)
    with pytest.raises(ValueError, match="predictions"):
        helpers.bootstrap_metric(helpers.rmse, y, {"short": y[:10]})


def test_tanimoto_and_enrichment():
    fps = np.array([[1, 1, 0, 0], [1, 0, 1, 0], [0, 0, 0, 0]])
    sim = helpers.tanimoto_matrix(fps)
    assert sim[0, 0] == 1 and sim[0, 1] == pytest.approx(1 / 3) and sim[2, 2] == 0
    real = molecules.morgan_fingerprints(["CCO", "CCN"], n_bits=256)
    from rdkit import DataStructs
    from rdkit.Chem import rdFingerprintGenerator

    gen = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=256)
    a, b = (gen.GetFingerprint(molecules.mol_from_smiles(s)) for s in ("CCO", "CCN"))
    assert helpers.tanimoto_matrix(real)[0, 1] == pytest.approx(
        DataStructs.TanimotoSimilarity(a, b)
    )
    active = np.array([1, 1, 0, 0, 0, 0, 0, 0, 0, 0], bool)
    perfect = np.arange(10, 0, -1)
    assert helpers.enrichment_factor(active, perfect, 0.2) == pytest.approx(5.0)
    assert helpers.enrichment_factor(active, -perfect, 0.2) == 0.0
    with pytest.raises(ValueError, match="active"):
        helpers.enrichment_factor(np.zeros(5, bool), np.arange(5))


def test_gine_regressor_learns_molecule_size():
    smiles = ["C" * k for k in range(1, 13)] + ["c1ccccc1" + "C" * k for k in range(8)]
    sizes = [molecules.mol_from_smiles(s).GetNumAtoms() for s in smiles]
    data = molecules.graphs_from_smiles(smiles, sizes)
    torch.manual_seed(0)
    model = helpers.GINERegressor(
        len(molecules.ATOM_FEATURE_NAMES), len(molecules.BOND_FEATURE_NAMES), hidden=16
    )
    model, history = helpers.train_graph_regressor(
        model, data, data, epochs=60, lr=1e-2, batch_size=8
    )
    assert history["val_rmse"][-1] < history["val_rmse"][0] or min(history["val_rmse"]) < 1.5
    pred = helpers.predict_graphs(model, data)
    assert pred.shape == (len(smiles),)
    assert helpers.rmse(sizes, pred) < 1.5 < np.std(sizes)
    with pytest.raises(ValueError, match="non-empty"):
        helpers.train_graph_regressor(model, [], data)


def test_node_models_and_label_propagation():
    data = graphs.pathway_network(n_genes=200, seed=0)
    data.train_mask, data.val_mask, data.test_mask = graphs.node_split_masks(data.y, 10, 40)
    for kind in ("gcn", "gat", "mlp"):
        model = helpers.NodeGNN(kind, data.num_features, 4)
        assert model(data.x, data.edge_index).shape == (200, 4)
    torch.manual_seed(0)
    _, accuracy = helpers.train_node_classifier(
        helpers.NodeGNN("gcn", data.num_features, 4), data, epochs=60
    )
    assert accuracy > 0.5
    scores = helpers.label_propagation(data.edge_index, data.y, data.train_mask, 4)
    assert (scores.argmax(1)[data.train_mask] == data.y[data.train_mask]).float().mean() > 0.9
    lp_accuracy = (scores.argmax(1)[data.test_mask] == data.y[data.test_mask]).float().mean()
    assert lp_accuracy > 0.4
    with pytest.raises(ValueError, match="kind"):
        helpers.NodeGNN("sage", 3, 2)


def test_neighbourhood_scores_by_hand():
    # path 0-1-2 plus hub 3 linked to 0, 2, 4
    edges = [(0, 1), (1, 2), (3, 0), (3, 2), (3, 4)]
    edge_index = torch.tensor(edges + [(j, i) for i, j in edges]).t()
    scores = helpers.neighbourhood_scores(edge_index, np.array([[0, 0], [2, 4]]), 5)
    assert scores["common neighbours"].tolist() == [2, 1]  # 0,2 share 1 and 3; 0,4 share 3
    assert scores["Adamic-Adar"][0] == pytest.approx(1 / np.log(2) + 1 / np.log(3))
    assert scores["Adamic-Adar"][1] == pytest.approx(1 / np.log(3))


def test_bootstrap_skips_resamples_where_the_metric_is_undefined():
    # one active in 40: some resamples hold none, where an enrichment factor is undefined
    active = np.zeros(40, bool)
    active[0] = True
    scores = np.arange(40, 0, -1.0)

    def enrichment(y_true, y_score):
        return helpers.enrichment_factor(y_true, y_score, 0.1) if y_true.any() else np.nan

    point, low, high, samples = helpers.bootstrap_metric(
        enrichment, active, {"perfect": scores}, n_boot=200
    )["perfect"]
    assert np.isnan(samples).any() and not np.isnan(samples).all()
    assert point == pytest.approx(10.0) and np.isfinite(low) and low <= high
