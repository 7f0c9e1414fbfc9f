"""Tests for bios740.datasets.graphs: the pathway network's planted structure, masks, PubMed loader."""

import pickle
import urllib.error
import urllib.request

import numpy as np
import pytest
import torch

from bios740.datasets import graphs
from bios740.download import DataUnavailableError

pytest.importorskip("torch_geometric")


def test_pathway_network_is_a_simple_undirected_graph():
    data = graphs.pathway_network(n_genes=200, n_pathways=4, seed=1)
    src, dst = data.edge_index
    assert data.x.shape == (200, 32) and data.y.shape == (200,)
    assert (src != dst).all(), "self-loops"
    pairs = set(zip(src.tolist(), dst.tolist(), strict=True))
    assert all((j, i) in pairs for i, j in pairs), "not symmetric"
    assert len(pairs) == src.numel(), "duplicate edges"
    assert torch.bincount(data.y).tolist() == [50, 50, 50, 50]
    again = graphs.pathway_network(n_genes=200, n_pathways=4, seed=1)
    assert torch.equal(again.edge_index, data.edge_index) and torch.equal(again.x, data.x)


def test_pathway_network_has_the_documented_structure():
    data = graphs.pathway_network(n_genes=1000, mean_degree=8, within_share=0.7, seed=0)
    degree = torch.bincount(data.edge_index[0], minlength=1000).float()
    assert degree.mean().item() == pytest.approx(8, rel=0.1)
    within = (data.y[data.edge_index[0]] == data.y[data.edge_index[1]]).float().mean().item()
    assert within == pytest.approx(0.7, abs=0.04)
    # hubs: degree follows the planted propensity, with a heavy upper tail
    assert np.corrcoef(degree.numpy(), data.propensity.numpy())[0, 1] > 0.7
    assert degree.max() > 4 * degree.mean()
    plain = graphs.pathway_network(n_genes=1000, mean_degree=8, hub_spread=0.0, seed=0)
    assert torch.bincount(plain.edge_index[0]).max() < 3 * 8


def test_neither_features_nor_edges_alone_solve_the_default_task():
    from sklearn.linear_model import LogisticRegression

    accuracies = []
    for seed in range(3):
        data = graphs.pathway_network(seed=seed)
        train, _, test = graphs.node_split_masks(data.y, 20, 100, seed=seed)
        model = LogisticRegression(max_iter=2000).fit(data.x[train], data.y[train])
        accuracies.append((model.predict(data.x[test]) == data.y[test].numpy()).mean())
        # neighbour majority vote with all true labels known: an upper bound for edges alone
        votes = torch.zeros(data.num_nodes, 4).index_add_(
            0,
            data.edge_index[1],
            torch.nn.functional.one_hot(data.y[data.edge_index[0]], 4).float(),
        )
        has_neighbours = votes.sum(1) > 0
        vote_accuracy = (votes.argmax(1) == data.y)[has_neighbours].float().mean().item()
        assert 0.6 < vote_accuracy < 0.95
    assert 0.55 < np.mean(accuracies) < 0.85


def test_pathway_network_argument_errors():
    with pytest.raises(ValueError, match="within_share"):
        graphs.pathway_network(within_share=1.0)
    with pytest.raises(ValueError, match="n_pathways"):
        graphs.pathway_network(n_genes=10, n_pathways=4)


def test_node_split_masks_partition_the_nodes():
    y = torch.tensor([0] * 50 + [1] * 30 + [2] * 40)
    train, val, test = graphs.node_split_masks(y, train_per_class=5, n_val=20, seed=0)
    assert torch.equal(train.int() + val.int() + test.int(), torch.ones(120, dtype=torch.int))
    assert torch.bincount(y[train]).tolist() == [5, 5, 5] and val.sum() == 20
    with pytest.raises(ValueError, match="class 1"):
        graphs.node_split_masks(y, train_per_class=30)


def _write_fake_planetoid(raw, n_features=500, n_classes=3, seed=0):
    """The eight ind.pubmed.* files for 560 nodes (30 train, 500 val, 30 test)."""
    import scipy.sparse as sp

    rng = np.random.default_rng(seed)
    n_train, n_all, n_test = 30, 530, 30
    labels = rng.integers(0, n_classes, n_all + n_test)
    features = sp.csr_matrix((rng.random((n_all + n_test, n_features)) < 0.02).astype(np.float32))
    one_hot = np.eye(n_classes)[labels]
    # Planetoid lists the test nodes in any order; row k of tx/ty belongs to the k-th listed
    test_index = np.arange(n_all, n_all + n_test)[::-1]
    objects = {
        "x": features[:n_train],
        "y": one_hot[:n_train],
        "allx": features[:n_all],
        "ally": one_hot[:n_all],
        "tx": features[test_index],
        "ty": one_hot[test_index],
        "graph": {
            i: [int(j) for j in rng.integers(0, n_all + n_test, 3)] for i in range(n_all + n_test)
        },
    }
    raw.mkdir(parents=True)
    for name, value in objects.items():
        with open(raw / f"ind.pubmed.{name}", "wb") as handle:
            pickle.dump(value, handle)
    (raw / "ind.pubmed.test.index").write_text("\n".join(map(str, test_index)) + "\n")
    return labels, features.toarray()


def test_pubmed_loader_reads_planetoid_files(tmp_path):
    labels, features = _write_fake_planetoid(tmp_path / "PubMed" / "raw")
    data = graphs.load_pubmed(root=tmp_path)
    assert data.num_nodes == 560 and data.num_features == 500
    assert torch.equal(data.y, torch.as_tensor(labels))
    assert torch.equal(data.x, torch.as_tensor(features))
    assert int(data.train_mask.sum()) == 30 and int(data.val_mask.sum()) == 500
    assert int(data.test_mask.sum()) == 30


def test_pubmed_loader_rejects_other_shapes_and_explains_offline(tmp_path, monkeypatch):
    _write_fake_planetoid(tmp_path / "wrong" / "PubMed" / "raw", n_features=20)
    with pytest.raises(DataUnavailableError, match="20 features"):
        graphs.load_pubmed(root=tmp_path / "wrong")

    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(DataUnavailableError, match="ind.pubmed"):
        graphs.load_pubmed(root=tmp_path / "empty")
