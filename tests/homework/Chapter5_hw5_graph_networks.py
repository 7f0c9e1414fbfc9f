"""Plausible wrong answers to Chapter5/hw5_graph_networks.ipynb; each must fail a test.

tests/tools/test_homework.py runs every entry in place of the question's solution cells (the
blank the student receives is always tried as well) and fails unless at least one of the
question's tests, hidden ones included, rejects it. CORRECT holds right answers written
differently, which every test must accept.
"""

# ------------------------------------------------------------------ question 1: dense GCN


def _dense(adjacency_body: str, layer: str = "") -> str:
    layer = layer or (
        "def gcn_dense(x, edge_index, weight, bias=None):\n"
        "    out = normalized_adjacency(edge_index, x.shape[0]).to(x.dtype) @ x @ weight\n"
        "    return out if bias is None else out + bias\n"
    )
    return "def normalized_adjacency(edge_index, n_nodes):\n" + adjacency_body + "\n\n" + layer


_DENSE_RIGHT = (
    "    a_tilde = torch.eye(n_nodes)\n"
    "    a_tilde[edge_index[1], edge_index[0]] = 1.0\n"
    "    d_inv_sqrt = a_tilde.sum(dim=1).rsqrt()\n"
    "    return d_inv_sqrt[:, None] * a_tilde * d_inv_sqrt[None, :]\n"
)

# ------------------------------------------------------------------ question 2: sparse GCN


def _sparse(degree: str, norm: str, aggregate: str, end: str = "") -> str:
    end = end or "    return out if bias is None else out + bias\n"
    return (
        "def gcn_sparse(x, edge_index, weight, bias=None):\n"
        "    n = x.shape[0]\n"
        "    loops = torch.arange(n)\n"
        "    source = torch.cat([edge_index[0], loops])\n"
        "    target = torch.cat([edge_index[1], loops])\n" + degree + norm + aggregate + end
    )


_DEGREE_IN = (
    "    degree = torch.zeros(n, dtype=x.dtype).index_add_(\n"
    "        0, target, torch.ones(target.numel(), dtype=x.dtype))\n"
)
_NORM_SYMMETRIC = "    norm = (degree[source] * degree[target]).rsqrt()\n"
_AGGREGATE = (
    "    messages = norm[:, None] * (x @ weight)[source]\n"
    "    out = torch.zeros(n, weight.shape[1], dtype=x.dtype).index_add_(0, target, messages)\n"
)

# ------------------------------------------------------------------ question 3: GIN


def _gin(body: str, readout: str = "") -> str:
    readout = readout or (
        "def graph_vector(x, edge_index, aggregation='sum'):\n"
        "    h = gin_aggregate(x, edge_index, aggregation)\n"
        "    return h.sum(dim=0) if aggregation == 'sum' else h.mean(dim=0)\n"
    )
    return "def gin_aggregate(x, edge_index, aggregation='sum'):\n" + body + "\n\n" + readout


_GIN_CHECK = "    if aggregation not in ('sum', 'mean'):\n        raise ValueError(aggregation)\n"

# ------------------------------------------------------------------ question 4: edge split

_SPLIT_HEAD = (
    "def split_edges(edge_index, n_nodes, test_fraction=0.1, seed=0):\n"
    "    rng = np.random.default_rng(seed)\n"
    "    source, target = edge_index.cpu().numpy()\n"
    "    pairs = np.stack([source[source < target], target[source < target]], axis=1)\n"
    "    order = rng.permutation(len(pairs))\n"
    "    n_test = int(round(test_fraction * len(pairs)))\n"
    "    held_out, kept = pairs[order[:n_test]], pairs[order[n_test:]]\n"
)
_SPLIT_MESSAGE = "    message = np.concatenate([kept, kept[:, ::-1]]).T\n"
_SPLIT_NEGATIVES = (
    "    edges = {tuple(p) for p in pairs.tolist()}\n"
    "    non_edges = []\n"
    "    while len(non_edges) < n_test:\n"
    "        u, v = sorted(rng.integers(0, n_nodes, size=2).tolist())\n"
    "        if u != v and (u, v) not in edges and (u, v) not in non_edges:\n"
    "            non_edges.append((u, v))\n"
)
_SPLIT_RETURN = (
    "    columns = [np.asarray(a, dtype=np.int64).reshape(-1, 2).T for a in (held_out, non_edges)]\n"
    "    return tuple(torch.as_tensor(np.ascontiguousarray(a)) for a in [message, *columns])\n"
)


def _split(message: str = _SPLIT_MESSAGE, negatives: str = _SPLIT_NEGATIVES) -> str:
    return _SPLIT_HEAD + message + negatives + _SPLIT_RETURN


# ------------------------------------------------------------------ question 5: scaffold split

_SCAFFOLD_HEAD = (
    "def scaffold_split(smiles, fractions=(0.8, 0.1, 0.1)):\n"
    "    groups = defaultdict(list)\n"
    "    for index, s in enumerate(smiles):\n"
)
_SCAFFOLD_PLACE = (
    "    targets = [fraction * len(smiles) for fraction in fractions]\n"
    "    parts = ([], [], [])\n"
    "    for members in sorted(groups.values(), key=len, reverse=True):\n"
    "        room = [k for k in range(3) if len(parts[k]) + len(members) <= targets[k]]\n"
    "        k = room[0] if room else max(range(3), key=lambda j: targets[j] - len(parts[j]))\n"
    "        parts[k].extend(members)\n"
)
_SCAFFOLD_RETURN = "    return tuple(np.array(sorted(part), dtype=np.int64) for part in parts)\n"
_BY_SCAFFOLD = "        groups[molecules.murcko_scaffold(s)].append(index)\n"

# ------------------------------------------------------------------ question 6: the model

_TRAIN_CALL = "\n\nsolubility_model = train_solubility_model(train_smiles, train_log_s)\n"

MISTAKES = {
    "q1_gcn_dense": {
        "row normalization D^-1 (A + I) instead of the symmetric one": _dense(
            "    a_tilde = torch.eye(n_nodes)\n"
            "    a_tilde[edge_index[1], edge_index[0]] = 1.0\n"
            "    return a_tilde / a_tilde.sum(dim=1, keepdim=True)\n"
        ),
        "self-loops forgotten": _dense(
            "    a = torch.zeros(n_nodes, n_nodes)\n"
            "    a[edge_index[1], edge_index[0]] = 1.0\n"
            "    d_inv_sqrt = a.sum(dim=1).clamp_min(1).rsqrt()\n"
            "    return d_inv_sqrt[:, None] * a * d_inv_sqrt[None, :]\n"
        ),
        "degree counted from the wrong edge direction (out-degree)": _dense(
            "    a_tilde = torch.eye(n_nodes)\n"
            "    a_tilde[edge_index[1], edge_index[0]] = 1.0\n"
            "    d_inv_sqrt = a_tilde.sum(dim=0).rsqrt()\n"
            "    return d_inv_sqrt[:, None] * a_tilde * d_inv_sqrt[None, :]\n"
        ),
        "adjacency transposed (messages flow from target to source)": _dense(
            "    a_tilde = torch.eye(n_nodes)\n"
            "    a_tilde[edge_index[0], edge_index[1]] = 1.0\n"
            "    d_inv_sqrt = a_tilde.sum(dim=1).rsqrt()\n"
            "    return d_inv_sqrt[:, None] * a_tilde * d_inv_sqrt[None, :]\n"
        ),
        "no normalization (A + I)": _dense(
            "    a_tilde = torch.eye(n_nodes)\n"
            "    a_tilde[edge_index[1], edge_index[0]] = 1.0\n"
            "    return a_tilde\n"
        ),
        "transposed weight": _dense(
            _DENSE_RIGHT,
            "def gcn_dense(x, edge_index, weight, bias=None):\n"
            "    out = normalized_adjacency(edge_index, x.shape[0]) @ x @ weight.T\n"
            "    return out if bias is None else out + bias\n",
        ),
        "missing bias": _dense(
            _DENSE_RIGHT,
            "def gcn_dense(x, edge_index, weight, bias=None):\n"
            "    return normalized_adjacency(edge_index, x.shape[0]).to(x.dtype) @ x @ weight\n",
        ),
        "rule broken: GCNConv does the layer": _dense(
            _DENSE_RIGHT,
            "def gcn_dense(x, edge_index, weight, bias=None):\n"
            "    from torch_geometric.nn import GCNConv\n"
            "    conv = GCNConv(weight.shape[0], weight.shape[1], bias=bias is not None)\n"
            "    conv = conv.to(x.dtype)\n"
            "    with torch.no_grad():\n"
            "        conv.lin.weight.copy_(weight.T)\n"
            "        if bias is not None:\n"
            "            conv.bias.copy_(bias)\n"
            "        return conv(x, edge_index)\n",
        ),
    },
    "q2_gcn_sparse": {
        "row normalization D^-1 (A + I) instead of the symmetric one": _sparse(
            _DEGREE_IN, "    norm = 1.0 / degree[target]\n", _AGGREGATE
        ),
        "self-loops forgotten": (
            "def gcn_sparse(x, edge_index, weight, bias=None):\n"
            "    n = x.shape[0]\n"
            "    source, target = edge_index\n"
            "    degree = torch.zeros(n, dtype=x.dtype).index_add_(\n"
            "        0, target, torch.ones(target.numel(), dtype=x.dtype)).clamp_min(1)\n"
            + _NORM_SYMMETRIC
            + _AGGREGATE
            + "    return out if bias is None else out + bias\n"
        ),
        "self-loop messages sent but not counted in the degree": (
            "def gcn_sparse(x, edge_index, weight, bias=None):\n"
            "    n = x.shape[0]\n"
            "    degree = torch.zeros(n, dtype=x.dtype).index_add_(\n"
            "        0, edge_index[1], torch.ones(edge_index.shape[1], dtype=x.dtype))"
            ".clamp_min(1)\n"
            "    loops = torch.arange(n)\n"
            "    source = torch.cat([edge_index[0], loops])\n"
            "    target = torch.cat([edge_index[1], loops])\n"
            + _NORM_SYMMETRIC
            + _AGGREGATE
            + "    return out if bias is None else out + bias\n"
        ),
        "degree counted from the wrong edge direction (out-degree)": _sparse(
            "    degree = torch.zeros(n, dtype=x.dtype).index_add_(\n"
            "        0, source, torch.ones(source.numel(), dtype=x.dtype))\n",
            _NORM_SYMMETRIC,
            _AGGREGATE,
        ),
        "messages summed at the source instead of the target": _sparse(
            _DEGREE_IN,
            _NORM_SYMMETRIC,
            "    messages = norm[:, None] * (x @ weight)[target]\n"
            "    out = torch.zeros(n, weight.shape[1], dtype=x.dtype).index_add_(0, source, messages)\n",
        ),
        "normalized by the source degree only": _sparse(
            _DEGREE_IN, "    norm = 1.0 / degree[source]\n", _AGGREGATE
        ),
        "missing bias": _sparse(_DEGREE_IN, _NORM_SYMMETRIC, _AGGREGATE, "    return out\n"),
        "transposed weight": _sparse(
            _DEGREE_IN,
            _NORM_SYMMETRIC,
            "    messages = norm[:, None] * (x @ weight.T)[source]\n"
            "    out = torch.zeros(n, weight.shape[1], dtype=x.dtype).index_add_(0, target, messages)\n",
        ),
        "rule broken: a dense n x n matrix (the layer of question 1)": (
            "def gcn_sparse(x, edge_index, weight, bias=None):\n"
            "    return gcn_dense(x, edge_index, weight, bias)\n"
        ),
        "rule broken: GCNConv does the layer": (
            "def gcn_sparse(x, edge_index, weight, bias=None):\n"
            "    from torch_geometric.nn import GCNConv\n"
            "    conv = GCNConv(weight.shape[0], weight.shape[1], bias=bias is not None)\n"
            "    conv = conv.to(x.dtype)\n"
            "    with torch.no_grad():\n"
            "        conv.lin.weight.copy_(weight.T)\n"
            "        if bias is not None:\n"
            "            conv.bias.copy_(bias)\n"
            "        return conv(x, edge_index)\n"
        ),
        "rule broken: torch_geometric's gcn_norm computes the weights": (
            "def gcn_sparse(x, edge_index, weight, bias=None):\n"
            "    from torch_geometric.nn.conv.gcn_conv import gcn_norm\n"
            "    edges, norm = gcn_norm(edge_index, num_nodes=x.shape[0], dtype=x.dtype)\n"
            "    messages = norm[:, None] * (x @ weight)[edges[0]]\n"
            "    out = torch.zeros(x.shape[0], weight.shape[1], dtype=x.dtype)\n"
            "    out = out.index_add_(0, edges[1], messages)\n"
            "    return out if bias is None else out + bias\n"
        ),
    },
    "q3_gin_sum_vs_mean": {
        "mean instead of sum (the aggregation argument ignored)": _gin(
            "    source, target = edge_index\n"
            "    total = torch.zeros_like(x).index_add_(0, target, x[source])\n"
            "    count = torch.zeros(x.shape[0], dtype=x.dtype).index_add_(\n"
            "        0, target, torch.ones(target.numel(), dtype=x.dtype))\n"
            "    return x + total / count.clamp_min(1)[:, None]\n"
        ),
        "sum for both (the aggregation argument ignored)": _gin(
            "    source, target = edge_index\n"
            "    return x + torch.zeros_like(x).index_add_(0, target, x[source])\n"
        ),
        "the node's own features forgotten": _gin(
            _GIN_CHECK + "    source, target = edge_index\n"
            "    total = torch.zeros_like(x).index_add_(0, target, x[source])\n"
            "    if aggregation == 'mean':\n"
            "        count = torch.zeros(x.shape[0], dtype=x.dtype).index_add_(\n"
            "            0, target, torch.ones(target.numel(), dtype=x.dtype))\n"
            "        total = total / count.clamp_min(1)[:, None]\n"
            "    return total\n"
        ),
        "mean divides by the number of nodes, not of incoming edges": _gin(
            _GIN_CHECK + "    source, target = edge_index\n"
            "    total = torch.zeros_like(x).index_add_(0, target, x[source])\n"
            "    if aggregation == 'mean':\n"
            "        total = total / x.shape[0]\n"
            "    return x + total\n"
        ),
        "messages flow from target to source": _gin(
            _GIN_CHECK + "    source, target = edge_index\n"
            "    total = torch.zeros_like(x).index_add_(0, source, x[target])\n"
            "    if aggregation == 'mean':\n"
            "        count = torch.zeros(x.shape[0], dtype=x.dtype).index_add_(\n"
            "            0, source, torch.ones(source.numel(), dtype=x.dtype))\n"
            "        total = total / count.clamp_min(1)[:, None]\n"
            "    return x + total\n"
        ),
        "readout always sums": (
            "def graph_vector(x, edge_index, aggregation='sum'):\n"
            "    return gin_aggregate(x, edge_index, aggregation).sum(dim=0)\n"
        ),
        "pair: the same graph twice": (
            "graph_pair = ((torch.ones(2, 1), torch.tensor([[0, 1], [1, 0]])),\n"
            "              (torch.ones(2, 1), torch.tensor([[0, 1], [1, 0]])))\n"
        ),
        "pair: the mean tells them apart too (different features)": (
            "graph_pair = ((torch.ones(2, 1), torch.tensor([[0, 1], [1, 0]])),\n"
            "              (2 * torch.ones(3, 1),\n"
            "               torch.tensor([[0, 1, 1, 2, 2, 0], [1, 0, 2, 1, 0, 2]])))\n"
        ),
        "pair: a lone node vs an edge (the mean sees the neighbour)": (
            "graph_pair = ((torch.ones(1, 1), torch.zeros(2, 0, dtype=torch.long)),\n"
            "              (torch.ones(2, 1), torch.tensor([[0, 1], [1, 0]])))\n"
        ),
        "pair: edges listed in one direction only": (
            "graph_pair = ((torch.ones(2, 1), torch.tensor([[0], [1]])),\n"
            "              (torch.ones(3, 1), torch.tensor([[0, 1, 2], [1, 2, 0]])))\n"
        ),
    },
    "q4_edge_split": {
        "test edges leak: messages pass over the whole graph": _split(
            message="    message = edge_index.cpu().numpy()\n"
        ),
        "only one direction of each test edge removed": _split(
            message=(
                "    held = {tuple(p) for p in held_out.tolist()}\n"
                "    message = np.array([p for p in edge_index.T.tolist() if tuple(p) not in held]"
                ").reshape(-1, 2).T\n"
            )
        ),
        "negatives drawn at random without checking (true edges among them)": _split(
            negatives=(
                "    non_edges = []\n"
                "    while len(non_edges) < n_test:\n"
                "        u, v = sorted(rng.integers(0, n_nodes, size=2).tolist())\n"
                "        if u != v and (u, v) not in non_edges:\n"
                "            non_edges.append((u, v))\n"
            )
        ),
        "negatives checked against the message-passing graph only (test edges among them)": (
            _split(
                negatives=(
                    "    edges = {tuple(p) for p in kept.tolist()}\n"
                    "    non_edges = []\n"
                    "    while len(non_edges) < n_test:\n"
                    "        u, v = sorted(rng.integers(0, n_nodes, size=2).tolist())\n"
                    "        if u != v and (u, v) not in edges and (u, v) not in non_edges:\n"
                    "            non_edges.append((u, v))\n"
                )
            )
        ),
        "negatives may be self-pairs": _split(
            negatives=(
                "    edges = {tuple(p) for p in pairs.tolist()}\n"
                "    non_edges = []\n"
                "    while len(non_edges) < n_test:\n"
                "        u, v = sorted(rng.integers(0, n_nodes, size=2).tolist())\n"
                "        if (u, v) not in edges and (u, v) not in non_edges:\n"
                "            non_edges.append((u, v))\n"
            )
        ),
        "negatives may repeat": _split(
            negatives=(
                "    edges = {tuple(p) for p in pairs.tolist()}\n"
                "    non_edges = []\n"
                "    while len(non_edges) < n_test:\n"
                "        u, v = sorted(rng.integers(0, n_nodes, size=2).tolist())\n"
                "        if u != v and (u, v) not in edges:\n"
                "            non_edges.append((u, v))\n"
            )
        ),
        "directed columns sampled (an edge held out twice, the count doubled)": (
            "def split_edges(edge_index, n_nodes, test_fraction=0.1, seed=0):\n"
            "    rng = np.random.default_rng(seed)\n"
            "    columns = edge_index.cpu().numpy().T\n"
            "    n_test = int(round(test_fraction * len(columns)))\n"
            "    held_out = columns[rng.permutation(len(columns))[:n_test]]\n"
            "    held = {tuple(sorted(p)) for p in held_out.tolist()}\n"
            "    message = np.array([p for p in columns.tolist() if tuple(sorted(p)) not in held]"
            ").reshape(-1, 2).T\n"
            "    pairs = columns[columns[:, 0] < columns[:, 1]]\n"
            "    edges = {tuple(p) for p in pairs.tolist()}\n"
            "    candidates = [(u, v) for u in range(n_nodes) for v in range(u + 1, n_nodes)\n"
            "                  if (u, v) not in edges]\n"
            "    chosen = rng.choice(len(candidates), min(n_test, len(candidates)), replace=False)\n"
            "    non_edges = [candidates[i] for i in chosen]\n" + _SPLIT_RETURN
        ),
        "not random: the first edges are held out": (
            _SPLIT_HEAD.replace(
                "order = rng.permutation(len(pairs))", "order = np.arange(len(pairs))"
            )
            + _SPLIT_MESSAGE
            + _SPLIT_NEGATIVES
            + _SPLIT_RETURN
        ),
        "rule broken: torch_geometric's negative_sampling": _split(
            negatives=(
                "    from torch_geometric.utils import negative_sampling\n"
                "    found = negative_sampling(edge_index, n_nodes, n_test, force_undirected=True)\n"
                "    non_edges = [tuple(sorted(p)) for p in found.T.tolist()]\n"
                "    non_edges = list(dict.fromkeys(p for p in non_edges if p[0] != p[1]))[:n_test]\n"
            )
        ),
    },
    "q5_scaffold_split": {
        "random split (scaffolds shared)": (
            "def scaffold_split(smiles, fractions=(0.8, 0.1, 0.1)):\n"
            "    order = np.random.default_rng(0).permutation(len(smiles))\n"
            "    n_train = int(round(fractions[0] * len(smiles)))\n"
            "    n_val = int(round(fractions[1] * len(smiles)))\n"
            "    return order[:n_train], order[n_train:n_train + n_val], order[n_train + n_val:]\n"
        ),
        "grouped by whole SMILES (only duplicates kept together)": (
            _SCAFFOLD_HEAD
            + "        groups[s].append(index)\n"
            + _SCAFFOLD_PLACE
            + _SCAFFOLD_RETURN
        ),
        "every molecule in training": (
            "def scaffold_split(smiles, fractions=(0.8, 0.1, 0.1)):\n"
            "    return np.arange(len(smiles)), np.array([], dtype=int), np.array([], dtype=int)\n"
        ),
        "groups placed smallest first (sizes far from the fractions)": (
            _SCAFFOLD_HEAD
            + _BY_SCAFFOLD
            + _SCAFFOLD_PLACE.replace("key=len, reverse=True", "key=len")
            + _SCAFFOLD_RETURN
        ),
        "validation and test returned in the wrong order": (
            _SCAFFOLD_HEAD
            + _BY_SCAFFOLD
            + _SCAFFOLD_PLACE
            + "    return tuple(np.array(sorted(parts[k]), dtype=np.int64) for k in (0, 2, 1))\n"
        ),
        "scaffold group numbers returned instead of molecule indices": (
            _SCAFFOLD_HEAD
            + _BY_SCAFFOLD
            + "    targets = [fraction * len(smiles) for fraction in fractions]\n"
            "    parts, sizes = ([], [], []), [0, 0, 0]\n"
            "    ordered = sorted(groups.values(), key=len, reverse=True)\n"
            "    for number, members in enumerate(ordered):\n"
            "        room = [k for k in range(3) if sizes[k] + len(members) <= targets[k]]\n"
            "        k = room[0] if room else max(range(3), key=lambda j: targets[j] - sizes[j])\n"
            "        parts[k].append(number)\n"
            "        sizes[k] += len(members)\n" + _SCAFFOLD_RETURN
        ),
        "rule broken: molecules.scaffold_split": (
            "def scaffold_split(smiles, fractions=(0.8, 0.1, 0.1)):\n"
            "    return molecules.scaffold_split(smiles, fractions)\n"
        ),
    },
    "q6_solubility_model": {
        "always predicts the training mean": (
            "class MeanModel(nn.Module):\n"
            "    def __init__(self, mean):\n"
            "        super().__init__()\n"
            "        self.scale = nn.Parameter(torch.zeros(1))\n"
            "        self.target_mean = torch.tensor(float(mean))\n"
            "        self.target_std = torch.tensor(1.0)\n"
            "\n"
            "    def forward(self, batch):\n"
            "        return self.scale.expand(batch.num_graphs, 1)\n"
            "\n"
            "\n"
            "def train_solubility_model(smiles, log_s, epochs=EPOCHS, seed=SEED):\n"
            "    return MeanModel(np.mean(log_s))\n" + _TRAIN_CALL
        ),
        "the fingerprint random forest (the baseline) wrapped as a model": (
            "from sklearn.ensemble import RandomForestRegressor\n"
            "\n"
            "\n"
            "class ForestModel(nn.Module):\n"
            "    def __init__(self, forest):\n"
            "        super().__init__()\n"
            "        self.forest = forest\n"
            "        self.dummy = nn.Parameter(torch.zeros(1))\n"
            "        self.target_mean, self.target_std = torch.tensor(0.0), torch.tensor(1.0)\n"
            "\n"
            "    def forward(self, batch):\n"
            "        fingerprints = molecules.morgan_fingerprints(list(batch.smiles))\n"
            "        predicted = self.forest.predict(fingerprints)\n"
            "        return torch.tensor(predicted, dtype=torch.float32)[:, None] + self.dummy\n"
            "\n"
            "\n"
            "def train_solubility_model(smiles, log_s, epochs=EPOCHS, seed=SEED):\n"
            "    forest = RandomForestRegressor(100, max_features=0.3, n_jobs=1, random_state=seed)\n"
            "    forest.fit(molecules.morgan_fingerprints(smiles), log_s)\n"
            "    return ForestModel(forest)\n" + _TRAIN_CALL
        ),
        "Delaney's ESOL equation refitted (a descriptor baseline) wrapped as a model": (
            "from sklearn.linear_model import LinearRegression\n"
            "\n"
            "\n"
            "class EsolModel(nn.Module):\n"
            "    def __init__(self, linear):\n"
            "        super().__init__()\n"
            "        self.linear = linear\n"
            "        self.dummy = nn.Parameter(torch.zeros(1))\n"
            "        self.target_mean, self.target_std = torch.tensor(0.0), torch.tensor(1.0)\n"
            "\n"
            "    def forward(self, batch):\n"
            "        predicted = self.linear.predict(molecules.esol_descriptors(list(batch.smiles)))\n"
            "        return torch.tensor(predicted, dtype=torch.float32)[:, None] + self.dummy\n"
            "\n"
            "\n"
            "def train_solubility_model(smiles, log_s, epochs=EPOCHS, seed=SEED):\n"
            "    linear = LinearRegression().fit(molecules.esol_descriptors(smiles), log_s)\n"
            "    return EsolModel(linear)\n" + _TRAIN_CALL
        ),
    },
}

CORRECT = {
    "q1_gcn_dense": {
        "degree matrices as diagonal matrices, (A_hat X) W": (
            "def normalized_adjacency(edge_index, n_nodes):\n"
            "    a = torch.zeros(n_nodes, n_nodes, dtype=torch.float64)\n"
            "    a.index_put_((edge_index[1], edge_index[0]),\n"
            "                 torch.ones(edge_index.shape[1], dtype=torch.float64))\n"
            "    a_tilde = a + torch.eye(n_nodes, dtype=torch.float64)\n"
            "    degree = torch.bincount(edge_index[1], minlength=n_nodes) + 1\n"
            "    d = torch.diag(degree.double() ** -0.5)\n"
            "    return d @ a_tilde @ d\n"
            "\n"
            "\n"
            "def gcn_dense(x, edge_index, weight, bias=None):\n"
            "    out = (normalized_adjacency(edge_index, len(x)).to(x.dtype) @ x) @ weight\n"
            "    if bias is not None:\n"
            "        out = out + bias\n"
            "    return out\n"
        ),
        "a sparse COO tensor made dense": (
            "def normalized_adjacency(edge_index, n_nodes):\n"
            "    loops = torch.arange(n_nodes)\n"
            "    index = torch.stack([torch.cat([edge_index[1], loops]),\n"
            "                         torch.cat([edge_index[0], loops])])\n"
            "    a_tilde = torch.sparse_coo_tensor(index, torch.ones(index.shape[1]),\n"
            "                                      (n_nodes, n_nodes)).to_dense()\n"
            "    d = a_tilde.sum(1)\n"
            "    return a_tilde / torch.sqrt(torch.outer(d, d))\n"
            "\n"
            "\n"
            "def gcn_dense(x, edge_index, weight, bias=None):\n"
            "    a_hat = normalized_adjacency(edge_index, x.shape[0]).to(x.dtype)\n"
            "    return a_hat @ (x @ weight) + (0 if bias is None else bias)\n"
        ),
    },
    "q2_gcn_sparse": {
        "aggregate first, weight after ((A_hat X) W)": _sparse(
            _DEGREE_IN,
            _NORM_SYMMETRIC,
            "    out = torch.zeros(n, x.shape[1], dtype=x.dtype)\n"
            "    out = out.index_add_(0, target, norm[:, None] * x[source]) @ weight\n",
        ),
        "scatter_add_ and bincount": (
            "def gcn_sparse(x, edge_index, weight, bias=None):\n"
            "    n = x.shape[0]\n"
            "    degree = (torch.bincount(edge_index[1], minlength=n) + 1).to(x.dtype)\n"
            "    h = x @ weight\n"
            "    norm = (degree[edge_index[0]] * degree[edge_index[1]]).rsqrt()\n"
            "    out = h / degree[:, None]\n"
            "    out = out.scatter_add(0, edge_index[1][:, None].expand(-1, h.shape[1]),\n"
            "                          norm[:, None] * h[edge_index[0]])\n"
            "    return out if bias is None else out + bias\n"
        ),
        "a sparse COO matrix times a dense one": (
            "def gcn_sparse(x, edge_index, weight, bias=None):\n"
            "    n = x.shape[0]\n"
            "    loops = torch.arange(n)\n"
            "    rows = torch.cat([edge_index[1], loops])\n"
            "    cols = torch.cat([edge_index[0], loops])\n"
            "    degree = torch.bincount(rows, minlength=n).to(x.dtype)\n"
            "    values = (degree[rows] * degree[cols]).rsqrt()\n"
            "    a_hat = torch.sparse_coo_tensor(torch.stack([rows, cols]), values, (n, n))\n"
            "    out = torch.sparse.mm(a_hat, x @ weight)\n"
            "    return out if bias is None else out + bias\n"
        ),
    },
    "q3_gin_sum_vs_mean": {
        "scatter_reduce, and two cycles as the pair": (
            "def gin_aggregate(x, edge_index, aggregation='sum'):\n"
            "    if aggregation not in ('sum', 'mean'):\n"
            "        raise ValueError(f'unknown aggregation {aggregation}')\n"
            "    index = edge_index[1][:, None].expand(-1, x.shape[1])\n"
            "    total = torch.zeros_like(x).scatter_reduce(\n"
            "        0, index, x[edge_index[0]], reduce=aggregation, include_self=False)\n"
            "    return x + total\n"
            "\n"
            "\n"
            "def graph_vector(x, edge_index, aggregation='sum'):\n"
            "    h = gin_aggregate(x, edge_index, aggregation)\n"
            "    return getattr(h, aggregation)(dim=0)\n"
            "\n"
            "\n"
            "def cycle(n):\n"
            "    nodes = torch.arange(n)\n"
            "    ring = torch.stack([nodes, (nodes + 1) % n])\n"
            "    return torch.ones(n, 3), torch.cat([ring, ring.flip(0)], dim=1)\n"
            "\n"
            "\n"
            "graph_pair = (cycle(4), cycle(6))\n"
        ),
        "dense adjacency, and a star vs a pair of stars": (
            "def gin_aggregate(x, edge_index, aggregation='sum'):\n"
            "    a = torch.zeros(x.shape[0], x.shape[0], dtype=x.dtype)\n"
            "    a[edge_index[1], edge_index[0]] = 1.0\n"
            "    if aggregation == 'mean':\n"
            "        a = a / a.sum(1, keepdim=True).clamp_min(1)\n"
            "    elif aggregation != 'sum':\n"
            "        raise ValueError(aggregation)\n"
            "    return x + a @ x\n"
            "\n"
            "\n"
            "def graph_vector(x, edge_index, aggregation='sum'):\n"
            "    h = gin_aggregate(x, edge_index, aggregation)\n"
            "    return h.sum(0) if aggregation == 'sum' else h.sum(0) / h.shape[0]\n"
            "\n"
            "\n"
            "star = torch.tensor([[0, 0, 1, 2], [1, 2, 0, 0]])\n"
            "x_star = torch.tensor([[2.0], [1.0], [1.0]])\n"
            "graph_pair = ((x_star, star),\n"
            "              (torch.cat([x_star, x_star]), torch.cat([star, star + 3], dim=1)))\n"
        ),
    },
    "q4_edge_split": {
        "negatives chosen among all enumerated non-edges": _split(
            negatives=(
                "    edges = {tuple(p) for p in pairs.tolist()}\n"
                "    candidates = [(u, v) for u in range(n_nodes) for v in range(u + 1, n_nodes)\n"
                "                  if (u, v) not in edges]\n"
                "    chosen = rng.choice(len(candidates), size=n_test, replace=False)\n"
                "    non_edges = [candidates[i] for i in chosen]\n"
            )
        ),
        "torch only, with a generator and a mask": (
            "def split_edges(edge_index, n_nodes, test_fraction=0.1, seed=0):\n"
            "    generator = torch.Generator().manual_seed(seed)\n"
            "    upper = edge_index[:, edge_index[0] < edge_index[1]]\n"
            "    n_test = int(round(test_fraction * upper.shape[1]))\n"
            "    order = torch.randperm(upper.shape[1], generator=generator)\n"
            "    held_out, kept = upper[:, order[:n_test]], upper[:, order[n_test:]]\n"
            "    message = torch.cat([kept, kept.flip(0)], dim=1)\n"
            "    taken = torch.zeros(n_nodes, n_nodes, dtype=torch.bool)\n"
            "    taken[edge_index[0], edge_index[1]] = True\n"
            "    taken |= torch.eye(n_nodes, dtype=torch.bool)\n"
            "    non_edges = []\n"
            "    while len(non_edges) < n_test:\n"
            "        u, v = torch.randint(n_nodes, (2,), generator=generator).tolist()\n"
            "        if not taken[u, v]:\n"
            "            taken[u, v] = taken[v, u] = True\n"
            "            non_edges.append([v, u])\n"
            "    non_edges = torch.tensor(non_edges, dtype=torch.long).reshape(-1, 2).T\n"
            "    return message, held_out, non_edges\n"
        ),
    },
    "q5_scaffold_split": {
        "groups by pandas, ties broken by last appearance": (
            "def scaffold_split(smiles, fractions=(0.8, 0.1, 0.1)):\n"
            "    import pandas as pd\n"
            "    scaffolds = pd.Series([molecules.murcko_scaffold(s) for s in smiles])\n"
            "    groups = [list(g) for g in scaffolds.groupby(scaffolds).groups.values()]\n"
            "    groups.sort(key=lambda g: (len(g), g[-1]), reverse=True)\n"
            "    n = len(smiles)\n"
            "    train, val, test = [], [], []\n"
            "    for group in groups:\n"
            "        if len(train) + len(group) <= fractions[0] * n:\n"
            "            train += group\n"
            "        elif len(val) + len(group) <= fractions[1] * n:\n"
            "            val += group\n"
            "        elif len(test) + len(group) <= fractions[2] * n:\n"
            "            test += group\n"
            "        else:\n"
            "            gaps = [fractions[0] * n - len(train), fractions[1] * n - len(val),\n"
            "                    fractions[2] * n - len(test)]\n"
            "            [train, val, test][int(np.argmax(gaps))].extend(group)\n"
            "    return np.array(train, dtype=int), np.array(val, dtype=int), np.array(test, dtype=int)\n"
        ),
    },
    "q6_solubility_model": {
        "own training loop, fixed epochs, standardized targets": (
            "from torch_geometric.loader import DataLoader\n"
            "\n"
            "\n"
            "def train_solubility_model(smiles, log_s, epochs=EPOCHS, seed=SEED):\n"
            "    seed_everything(seed)\n"
            "    mean, std = float(np.mean(log_s)), float(np.std(log_s))\n"
            "    model = helpers.GINERegressor(32, 6, hidden=HIDDEN).to(device)\n"
            "    model.target_mean = torch.tensor(mean, device=device)\n"
            "    model.target_std = torch.tensor(std, device=device)\n"
            "    data = molecules.graphs_from_smiles(smiles, (np.asarray(log_s) - mean) / std)\n"
            "    loader = DataLoader(data, batch_size=64, shuffle=True,\n"
            "                        generator=torch.Generator().manual_seed(seed))\n"
            "    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)\n"
            "    for _ in range(epochs):\n"
            "        model.train()\n"
            "        for batch in loader:\n"
            "            batch = batch.to(device)\n"
            "            optimizer.zero_grad()\n"
            "            loss = torch.nn.functional.mse_loss(model(batch), batch.y)\n"
            "            loss.backward()\n"
            "            optimizer.step()\n"
            "    return model.eval()\n" + _TRAIN_CALL
        ),
    },
}
