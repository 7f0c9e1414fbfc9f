"""Networks for node- and link-level tasks: a semi-synthetic pathway network, PubMed on Colab.

:func:`pathway_network` is **semi-synthetic**: a degree-corrected stochastic block model
(Karrer & Newman 2011) of genes grouped into pathways. Nothing in it is measured. What it
imitates: interaction networks are sparse, cluster by function, and have a few hub
genes with many partners (heavy-tailed degrees, here log-normal propensities); each gene
also carries a noisy "expression profile" whose mean depends on its pathway. The
planted structure is documented in the returned graph (``y`` = pathway,
``propensity`` = each gene's degree propensity), so the notebooks can say what an ideal
model could reach.

What is easier than real data, and why it still needs learning: pathways here are
disjoint, the same size, and the only source of both the edges and the feature means,
so features and edges agree (real networks have multi-pathway genes, missing and
spurious edges, and features that depend on much else). The defaults are set so that no
one-line rule solves the task: features alone (the best linear classifier) and edges alone
(label propagation) each reach only part of what combining them reaches (checked in
``tests/datasets/test_graphs.py``).

Colab path: :func:`load_pubmed` wraps PyTorch Geometric's Planetoid PubMed (19,717
diabetes papers, 3 classes, 500 TF-IDF features, 44,324 citation links), tested offline
on small fake files in the Planetoid format.
"""

from __future__ import annotations

import urllib.error
from pathlib import Path

import numpy as np
import torch

from bios740.download import DataUnavailableError

PUBMED_FEATURES = 500
PUBMED_CLASSES = 3


def pathway_network(
    n_genes: int = 600,
    n_pathways: int = 4,
    mean_degree: float = 6.0,
    within_share: float = 0.75,
    n_features: int = 32,
    feature_signal: float = 0.35,
    hub_spread: float = 0.8,
    seed: int = 0,
):
    """A degree-corrected stochastic block model of genes in pathways, with features.

    Edge ``(i, j)`` appears independently with probability proportional to
    ``theta_i * theta_j * B[pathway_i, pathway_j]``, where ``theta`` is log-normal
    (``hub_spread`` is its log-scale standard deviation) and ``B`` puts a share
    ``within_share`` of the expected edges inside pathways. Features are the pathway's
    mean profile (a random direction of length ``feature_signal * sqrt(n_features)``)
    plus standard normal noise.

    Args:
        n_genes: number of nodes (genes), at least ``4 * n_pathways``.
        n_pathways: number of blocks (classes), at least 2.
        mean_degree: expected mean degree.
        within_share: expected share of edges inside a pathway (homophily), in (0, 1).
        n_features: length of each gene's feature vector.
        feature_signal: per-feature signal-to-noise of the pathway mean (0 = no signal).
        hub_spread: standard deviation of log(theta); 0 gives a plain SBM.
        seed: random seed (the same seed gives the same graph).

    Returns:
        ``torch_geometric.data.Data`` with ``x`` (genes x features), ``y`` (pathway),
        ``edge_index`` (undirected: both directions, no self-loops, no duplicates) and
        ``propensity`` (``theta``).

    Raises:
        ValueError: an argument out of range.
    """
    from torch_geometric.data import Data

    if n_pathways < 2 or n_genes < 4 * n_pathways:
        raise ValueError(
            f"need n_pathways >= 2 and n_genes >= 4 * n_pathways, got {n_pathways}, {n_genes}"
        )
    if not 0 < within_share < 1:
        raise ValueError(f"within_share must be in (0, 1), got {within_share}")
    if mean_degree <= 0 or n_features < 1 or feature_signal < 0 or hub_spread < 0:
        raise ValueError(
            "mean_degree, n_features must be positive; feature_signal, hub_spread >= 0"
        )
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(n_pathways), -(-n_genes // n_pathways))[:n_genes]
    y = rng.permutation(y)
    theta = np.exp(hub_spread * rng.standard_normal(n_genes))
    theta /= theta.mean()
    # Blocks of equal size: within-pathway pairs are 1/k of all pairs, so the rate ratio
    # below makes the expected share of within-pathway edges equal within_share.
    within_rate = within_share * n_pathways
    between_rate = (1 - within_share) * n_pathways / (n_pathways - 1)
    rows, cols = np.triu_indices(n_genes, k=1)
    rate = np.where(y[rows] == y[cols], within_rate, between_rate) * theta[rows] * theta[cols]
    rate *= mean_degree * n_genes / 2 / rate.sum()
    keep = rng.random(rate.shape) < np.minimum(rate, 1.0)
    rows, cols = rows[keep], cols[keep]
    edge_index = torch.tensor(np.stack([np.r_[rows, cols], np.r_[cols, rows]]), dtype=torch.long)
    order = (edge_index[0] * n_genes + edge_index[1]).argsort()
    profiles = rng.standard_normal((n_pathways, n_features))
    profiles *= (
        feature_signal * np.sqrt(n_features) / np.linalg.norm(profiles, axis=1, keepdims=True)
    )
    x = profiles[y] + rng.standard_normal((n_genes, n_features))
    return Data(
        x=torch.tensor(x, dtype=torch.float32),
        y=torch.tensor(y, dtype=torch.long),
        edge_index=edge_index[:, order],
        propensity=torch.tensor(theta, dtype=torch.float32),
        num_nodes=n_genes,
    )


def node_split_masks(
    y: torch.Tensor, train_per_class: int = 20, n_val: int = 100, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Planetoid-style masks: ``train_per_class`` labelled nodes per class, then val, test.

    Every node not in train or validation is in test, so the three masks partition the
    nodes.

    Raises:
        ValueError: a class has too few nodes, or too few nodes remain for test.
    """
    y = torch.as_tensor(y)
    n = y.numel()
    rng = np.random.default_rng(seed)
    train = torch.zeros(n, dtype=torch.bool)
    for label in torch.unique(y).tolist():
        members = np.flatnonzero(y.numpy() == label)
        if len(members) <= train_per_class:
            raise ValueError(f"class {label} has {len(members)} nodes, <= train_per_class")
        train[rng.choice(members, train_per_class, replace=False)] = True
    rest = rng.permutation(np.flatnonzero(~train.numpy()))
    if len(rest) <= n_val:
        raise ValueError(
            f"only {len(rest)} nodes left after training, need more than n_val={n_val}"
        )
    val = torch.zeros(n, dtype=torch.bool)
    val[rest[:n_val]] = True
    test = ~(train | val)
    return train, val, test


def load_pubmed(root: str | Path | None = None):
    """Planetoid PubMed through PyTorch Geometric (downloads once; Colab path).

    Args:
        root: the folder for the ``PubMed/raw`` and ``PubMed/processed`` files (default
            ``data_dir("planetoid")``).

    Returns:
        The graph (``Data`` with ``x``, ``y``, ``edge_index``, ``train_mask``,
        ``val_mask``, ``test_mask``).

    Raises:
        DataUnavailableError: the raw files are missing and cannot be downloaded, or
            they are not PubMed-shaped (500 features, 3 classes).
    """
    from torch_geometric.datasets import Planetoid

    if root is None:
        from bios740.paths import data_dir

        root = data_dir("planetoid")
    raw_dir = Path(root) / "PubMed" / "raw"
    try:
        data = Planetoid(str(root), "PubMed")[0]
    except (urllib.error.URLError, OSError, TimeoutError) as error:
        raise DataUnavailableError(
            f"Could not download PubMed ({error}). Put the eight Planetoid files "
            f"ind.pubmed.{{x,tx,allx,y,ty,ally,graph,test.index}} into {raw_dir.resolve()}, "
            "or run on a machine with internet (Colab)."
        ) from error
    except (EOFError, ValueError, IndexError, RuntimeError) as error:
        raise DataUnavailableError(
            f"The PubMed files in {raw_dir} could not be read ({error}); delete "
            f"{Path(root) / 'PubMed'} and download again."
        ) from error
    n_classes = int(data.y.max()) + 1
    if data.num_features != PUBMED_FEATURES or n_classes != PUBMED_CLASSES:
        raise DataUnavailableError(
            f"{raw_dir} does not hold PubMed: {data.num_features} features and {n_classes} "
            f"classes instead of {PUBMED_FEATURES} and {PUBMED_CLASSES}; delete "
            f"{Path(root) / 'PubMed'} and download again."
        )
    return data
