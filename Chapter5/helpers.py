"""Chapter 5 helpers: graph models, their training loops, classical baselines, intervals.

Data (molecules, the pathway network, PubMed, MoleculeNet) lives in
:mod:`bios740.datasets.molecules` and :mod:`bios740.datasets.graphs`. The GCN layer written
from scratch is the lesson of notebook 01 and of homework 5, so it is not here.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from bios740.stats import paired_bootstrap, percentile_interval


def rmse(y_true, y_pred) -> float:
    """Root-mean-square error of two equal-length arrays."""
    y_true, y_pred = np.asarray(y_true, float).ravel(), np.asarray(y_pred, float).ravel()
    if y_true.shape != y_pred.shape or y_true.size == 0:
        raise ValueError(f"need two equal, non-empty lengths, got {y_true.size}, {y_pred.size}")
    return float(np.sqrt(np.mean((y_true - y_pred) ** 2)))


def bootstrap_metric(metric, y_true, predictions: dict, n_boot: int = 1000, seed: int = 0):
    """Bootstrap the test molecules (or nodes, or edges) to get intervals of a metric.

    The same resamples are used for every model, so the interval of a *difference*
    between two models is paired. A metric may return ``nan`` on a resample where it is
    undefined (an enrichment factor without actives); those resamples are left out of
    the interval.

    Args:
        metric: ``metric(y_true, y_pred) -> float``.
        y_true: the test targets.
        predictions: model name -> predictions on the same test items.
        n_boot: number of resamples.
        seed: seed of the resampling.

    Returns:
        ``{name: (point estimate, low, high, samples)}`` with a 95 % percentile interval.
    """
    y_true = np.asarray(y_true)
    samples = paired_bootstrap(metric, y_true, predictions, n_boot=n_boot, seed=seed)
    return {
        name: (metric(y_true, np.asarray(pred)), *percentile_interval(samples[name]), samples[name])
        for name, pred in predictions.items()
    }


# --------------------------------------------------------------------------- molecules


class GINERegressor(nn.Module):
    """GIN layers that also read bond features (GINE, Hu et al. 2020), then a readout.

    Each layer: ``h_i <- MLP((1 + eps) h_i + sum_j ReLU(h_j + W e_ij))``. The graph
    vector is the sum and the mean of the final atom states (sum keeps size
    information that mean loses); a two-layer head maps it to the targets.
    """

    def __init__(
        self,
        n_atom_features: int,
        n_bond_features: int,
        hidden: int = 64,
        layers: int = 3,
        n_targets: int = 1,
        dropout: float = 0.1,
    ):
        super().__init__()
        from torch_geometric.nn import GINEConv

        self.embed = nn.Linear(n_atom_features, hidden)
        self.convs = nn.ModuleList()
        self.norms = nn.ModuleList()
        for _ in range(layers):
            mlp = nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, hidden))
            self.convs.append(GINEConv(mlp, train_eps=True, edge_dim=n_bond_features))
            self.norms.append(nn.BatchNorm1d(hidden))
        self.dropout = dropout
        self.head = nn.Sequential(
            nn.Linear(2 * hidden, hidden), nn.ReLU(), nn.Linear(hidden, n_targets)
        )

    def embed_graphs(self, batch) -> torch.Tensor:
        """The graph vectors (graphs x 2*hidden) before the head."""
        from torch_geometric.nn import global_add_pool, global_mean_pool

        h = self.embed(batch.x)
        for conv, norm in zip(self.convs, self.norms, strict=True):
            h = h + F.relu(norm(conv(h, batch.edge_index, batch.edge_attr)))  # residual
            h = F.dropout(h, self.dropout, self.training)
        return torch.cat([global_add_pool(h, batch.batch), global_mean_pool(h, batch.batch)], 1)

    def forward(self, batch) -> torch.Tensor:
        return self.head(self.embed_graphs(batch))


def train_graph_regressor(
    model,
    train_graphs,
    val_graphs,
    epochs: int = 60,
    lr: float = 3e-3,
    batch_size: int = 64,
    seed: int = 0,
    device=None,
    desc: str = "GNN",
):
    """Train with MSE and Adam, keep the epoch with the lowest validation RMSE.

    Targets are standardized with the training mean and standard deviation inside the
    loop and the model's outputs are mapped back, so predictions are in the data's units.

    Returns:
        ``(model, history)``: the model with the best epoch's weights, moved to ``device``
        and in eval mode, with ``model.target_mean``/``model.target_std`` set; history is a
        dict of per-epoch lists ``train_loss`` and ``val_rmse``.
    """
    from torch_geometric.loader import DataLoader

    if len(train_graphs) == 0 or len(val_graphs) == 0:
        raise ValueError("train_graphs and val_graphs must be non-empty lists of graphs")
    device = torch.device(device or "cpu")
    y = torch.cat([g.y for g in train_graphs])
    mean, std = y.mean(0).to(device), y.std(0).clamp_min(1e-8).to(device)
    model.to(device)
    model.target_mean, model.target_std = mean, std
    generator = torch.Generator().manual_seed(seed)
    loader = DataLoader(train_graphs, batch_size=batch_size, shuffle=True, generator=generator)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    best, best_rmse, history = None, float("inf"), {"train_loss": [], "val_rmse": []}
    y_val = torch.cat([g.y for g in val_graphs]).numpy()
    for _ in tqdm(range(epochs), desc=desc, leave=False):
        model.train()
        total = 0.0
        for batch in loader:
            batch = batch.to(device)
            optimizer.zero_grad()
            loss = F.mse_loss(model(batch), (batch.y - mean) / std)
            loss.backward()
            optimizer.step()
            total += loss.item() * batch.num_graphs
        history["train_loss"].append(total / len(train_graphs))
        history["val_rmse"].append(rmse(y_val, predict_graphs(model, val_graphs, device)))
        if history["val_rmse"][-1] < best_rmse:
            best_rmse, best = history["val_rmse"][-1], copy.deepcopy(model.state_dict())
    model.load_state_dict(best)
    return model.eval(), history


@torch.no_grad()
def predict_graphs(model, graphs, device=None, batch_size: int = 256) -> np.ndarray:
    """Predictions (graphs x targets, squeezed) in the data's units, in eval mode."""
    from torch_geometric.loader import DataLoader

    device = torch.device(device or "cpu")
    was_training = model.training
    model.eval()
    out = [
        model(b.to(device)) * model.target_std + model.target_mean
        for b in DataLoader(graphs, batch_size=batch_size)
    ]
    model.train(was_training)
    return torch.cat(out).cpu().numpy().squeeze(-1)


def tanimoto_matrix(fingerprints_a, fingerprints_b=None) -> np.ndarray:
    """Tanimoto similarity |a & b| / |a | b| between rows of two 0/1 fingerprint arrays."""
    a = np.asarray(fingerprints_a, dtype=np.float32)
    b = a if fingerprints_b is None else np.asarray(fingerprints_b, dtype=np.float32)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"need two 2-D arrays with equal widths, got {a.shape}, {b.shape}")
    both = a @ b.T
    either = a.sum(1)[:, None] + b.sum(1)[None, :] - both
    return np.divide(both, either, out=np.zeros_like(both), where=either > 0)


def enrichment_factor(is_active, scores, fraction: float = 0.05) -> float:
    """Share of actives among the top ``fraction`` by score, divided by the overall share."""
    is_active, scores = np.asarray(is_active, bool), np.asarray(scores, float)
    if not 0 < fraction <= 1 or is_active.shape != scores.shape or not is_active.any():
        raise ValueError("need 0 < fraction <= 1, equal shapes and at least one active")
    top = np.argsort(-scores, kind="stable")[: max(1, int(round(fraction * len(scores))))]
    return float(is_active[top].mean() / is_active.mean())


# --------------------------------------------------------------------------- nodes and links


class NodeGNN(nn.Module):
    """Two-layer node classifier: ``kind`` "gcn", "gat" (4 heads) or "mlp" (no edges)."""

    def __init__(self, kind: str, n_features: int, n_classes: int, hidden: int = 32, dropout=0.5):
        super().__init__()
        from torch_geometric.nn import GATConv, GCNConv

        if kind not in ("gcn", "gat", "mlp"):
            raise ValueError(f"kind must be 'gcn', 'gat' or 'mlp', got {kind!r}")
        self.kind, self.dropout = kind, dropout
        if kind == "gcn":
            self.layers = nn.ModuleList([GCNConv(n_features, hidden), GCNConv(hidden, n_classes)])
        elif kind == "gat":
            self.layers = nn.ModuleList(
                [GATConv(n_features, hidden // 4, heads=4), GATConv(hidden, n_classes, heads=1)]
            )
        else:
            self.layers = nn.ModuleList(
                [nn.Linear(n_features, hidden), nn.Linear(hidden, n_classes)]
            )

    def forward(self, x, edge_index):
        for index, layer in enumerate(self.layers):
            x = F.dropout(x, self.dropout, self.training)
            x = layer(x) if self.kind == "mlp" else layer(x, edge_index)
            if index == 0:
                x = F.elu(x) if self.kind == "gat" else F.relu(x)
        return x


def train_node_classifier(model, data, epochs: int = 200, lr: float = 0.01, weight_decay=5e-4):
    """Full-batch training on ``data.train_mask``; keep the best ``val_mask`` accuracy.

    Returns:
        ``(model, test_accuracy)`` with the best validation epoch's weights.
    """
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    best, best_val = None, -1.0
    for _ in range(epochs):
        model.train()
        optimizer.zero_grad()
        out = model(data.x, data.edge_index)
        F.cross_entropy(out[data.train_mask], data.y[data.train_mask]).backward()
        optimizer.step()
        model.eval()
        with torch.no_grad():
            pred = model(data.x, data.edge_index).argmax(1)
        val = (pred[data.val_mask] == data.y[data.val_mask]).float().mean().item()
        if val > best_val:
            best_val, best = val, copy.deepcopy(model.state_dict())
    model.load_state_dict(best)
    model.eval()
    with torch.no_grad():
        pred = model(data.x, data.edge_index).argmax(1)
    return model, (pred[data.test_mask] == data.y[data.test_mask]).float().mean().item()


def label_propagation(edge_index, y, train_mask, n_classes: int, alpha=0.9, steps=50):
    """Zhou et al. (2004): spread one-hot training labels over the normalized graph.

    ``F <- alpha * D^-1/2 A D^-1/2 F + (1 - alpha) * Y0``; uses no node features.
    Returns class scores (nodes x classes).
    """
    n = y.numel()
    src, dst = edge_index
    degree = torch.zeros(n).index_add_(0, dst, torch.ones(dst.numel()))
    inv_sqrt = degree.clamp_min(1).rsqrt()
    weight = inv_sqrt[src] * inv_sqrt[dst]
    seeds = torch.zeros(n, n_classes)
    seeds[train_mask, y[train_mask]] = 1.0
    scores = seeds.clone()
    for _ in range(steps):
        spread = torch.zeros_like(scores).index_add_(0, dst, weight[:, None] * scores[src])
        scores = alpha * spread + (1 - alpha) * seeds
    return scores


def neighbourhood_scores(edge_index, pairs, n_nodes: int) -> dict[str, np.ndarray]:
    """Common-neighbours and Adamic-Adar scores of candidate ``pairs`` (2 x m) on a graph.

    Adamic-Adar sums ``1 / log(degree)`` over the shared neighbours, so a shared hub
    counts less than a shared specialist.
    """
    import scipy.sparse as sp

    src, dst = np.asarray(edge_index)
    adjacency = sp.csr_matrix((np.ones(src.size), (src, dst)), shape=(n_nodes, n_nodes))
    adjacency.data[:] = 1.0  # duplicate edges count once
    degree = np.asarray(adjacency.sum(1)).ravel()
    weights = np.where(degree > 1, 1 / np.log(np.maximum(degree, 2)), 0.0)
    u, v = np.asarray(pairs)
    rows_u, rows_v = adjacency[u], adjacency[v]
    common = np.asarray(rows_u.multiply(rows_v).sum(1)).ravel()
    adamic = np.asarray(rows_u.multiply(rows_v) @ weights).ravel()
    return {"common neighbours": common, "Adamic-Adar": adamic}
