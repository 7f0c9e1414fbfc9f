"""Plausible wrong answers to Chapter7/hw7_attention_transformer.ipynb; each must fail a test.

tests/tools/test_homework.py runs every entry in place of the question's solution cells (the
blank the student receives is always tried as well) and fails unless at least one of the
question's tests, hidden ones included, rejects it. CORRECT holds right answers written
differently, which every test must accept.
"""

# ------------------------------------------------------------------ question 1: attention

_SDPA = (
    "def scaled_dot_product_attention(query, key, value, mask=None):\n"
    "    scores = query @ key.transpose(-2, -1) / math.sqrt(query.shape[-1])\n"
    "    if mask is not None:\n"
    "        scores = scores.masked_fill(~mask, float('-inf'))\n"
    "    weights = torch.softmax(scores, dim=-1)\n"
    "    return weights @ value, weights\n"
)


def _sdpa(old: str, new: str) -> str:
    assert old in _SDPA, old
    return _SDPA.replace(old, new)


# ------------------------------------------------------------------ question 3: multi-head

_MHA = (
    "def multi_head_attention(\n"
    "    x, in_proj_weight, in_proj_bias, out_proj_weight, out_proj_bias, n_heads, mask=None\n"
    "):\n"
    "    batch, length, d_model = x.shape\n"
    "    d_head = d_model // n_heads\n"
    "    q, k, v = (x @ in_proj_weight.T + in_proj_bias).chunk(3, dim=-1)\n"
    "\n"
    "    def split(projected):\n"
    "        return projected.reshape(batch, length, n_heads, d_head).transpose(1, 2)\n"
    "\n"
    "    q, k, v = split(q), split(k), split(v)\n"
    "    scores = q @ k.transpose(-2, -1) / math.sqrt(d_head)\n"
    "    if mask is not None:\n"
    "        scores = scores.masked_fill(~mask, float('-inf'))\n"
    "    weights = torch.softmax(scores, dim=-1)\n"
    "    merged = (weights @ v).transpose(1, 2).reshape(batch, length, d_model)\n"
    "    return merged @ out_proj_weight.T + out_proj_bias, weights\n"
)


def _mha(old: str, new: str) -> str:
    assert old in _MHA, old
    return _MHA.replace(old, new)


# ------------------------------------------------------------------ question 4: positions

_PE = (
    "def sinusoidal_encoding(length, d_model):\n"
    "    position = torch.arange(length, dtype=torch.float64)[:, None]\n"
    "    frequency = 10000.0 ** (-torch.arange(0, d_model, 2, dtype=torch.float64) / d_model)\n"
    "    encoding = torch.zeros(length, d_model, dtype=torch.float64)\n"
    "    encoding[:, 0::2] = torch.sin(position * frequency)\n"
    "    encoding[:, 1::2] = torch.cos(position * frequency)\n"
    "    return encoding.float()\n"
)


def _pe(old: str, new: str) -> str:
    assert old in _PE, old
    return _PE.replace(old, new)


# ------------------------------------------------------------------ question 5: the model

_MODEL = (
    "class GrammarTransformer(nn.Module):\n"
    "    def __init__(self, length, positions=True):\n"
    "        super().__init__()\n"
    "        self.tokenizer = nn.Sequential(\n"
    "            nn.Conv1d(4, 128, 7, padding=3), nn.ReLU(), nn.MaxPool1d(4), nn.Conv1d(128, 32, 1)\n"
    "        )\n"
    "        self.positions = (\n"
    "            attention.SinusoidalPositionalEncoding(32, length // 4) if positions else nn.Identity()\n"
    "        )\n"
    "        self.encoder = attention.TransformerEncoder(1, 32, 4, 64, dropout=0.0, norm_first=True)\n"
    "        self.head = nn.Linear(32, 1)\n"
    "\n"
    "    def forward(self, codes):\n"
    "        one_hot = F.one_hot(codes.long(), 4).float().transpose(1, 2)\n"
    "        hidden = self.encoder(self.positions(self.tokenizer(one_hot).transpose(1, 2)))\n"
    "        return self.head(hidden.amax(dim=1)).squeeze(-1)\n"
    "\n"
    "\n"
)
_LOOP = (
    "def train_loop(model, data, epochs, seed, flip=False):\n"
    "    seed_everything(seed)\n"
    "    codes = torch.as_tensor(dna.encode(data.sequences), dtype=torch.long)\n"
    "    labels = torch.as_tensor(data.labels, dtype=torch.float32)\n"
    "    if flip:\n"
    "        labels = 1 - labels\n"
    "    model = model.to(device)\n"
    "    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)\n"
    "    loss_fn = nn.BCEWithLogitsLoss()\n"
    "    for _ in range(epochs):\n"
    "        model.train()\n"
    "        order = torch.randperm(len(labels))\n"
    "        for start in range(0, len(labels), 64):\n"
    "            batch = order[start : start + 64]\n"
    "            loss = loss_fn(model(codes[batch].to(device)), labels[batch].to(device))\n"
    "            optimizer.zero_grad()\n"
    "            loss.backward()\n"
    "            optimizer.step()\n"
    "    return model.eval()\n"
    "\n"
    "\n"
)
_RUN = "\n\ngrammar_model = train_grammar_model(train_data, val_data)\n"


def _train(body: str) -> str:
    return (
        _MODEL
        + _LOOP
        + "def train_grammar_model(train_data, val_data, epochs=EPOCHS, seed=SEED):\n"
        + body
        + _RUN
    )


MISTAKES = {
    "q1_attention": {
        "scaled by d instead of sqrt(d)": _sdpa(
            "/ math.sqrt(query.shape[-1])", "/ query.shape[-1]"
        ),
        "no scaling": _sdpa(" / math.sqrt(query.shape[-1])", ""),
        "scaled by the square root of the value size d_v": _sdpa(
            "math.sqrt(query.shape[-1])", "math.sqrt(value.shape[-1])"
        ),
        "softmax over the queries (dim=-2)": _sdpa("dim=-1", "dim=-2"),
        "mask applied after the softmax (weights zeroed, rows no longer sum to 1)": (
            "def scaled_dot_product_attention(query, key, value, mask=None):\n"
            "    scores = query @ key.transpose(-2, -1) / math.sqrt(query.shape[-1])\n"
            "    weights = torch.softmax(scores, dim=-1)\n"
            "    if mask is not None:\n"
            "        weights = weights * mask\n"
            "    return weights @ value, weights\n"
        ),
        "mask with the wrong sign (blocks the allowed keys)": _sdpa(
            "masked_fill(~mask,", "masked_fill(mask,"
        ),
        "boolean mask added to the scores as 0/1": _sdpa(
            "scores = scores.masked_fill(~mask, float('-inf'))", "scores = scores + mask"
        ),
        "mask ignored": _sdpa("    if mask is not None:\n", "    if False:\n"),
        "key transposed on the wrong axes (0, 1)": _sdpa(
            "key.transpose(-2, -1)", "key.transpose(0, 1)"
        ),
        "rule: F.scaled_dot_product_attention": _sdpa(
            "    return weights @ value, weights\n",
            "    return F.scaled_dot_product_attention(query, key, value, attn_mask=mask), weights\n",
        ),
        "rule: bios740.attention": (
            "def scaled_dot_product_attention(query, key, value, mask=None):\n"
            "    return attention.scaled_dot_product_attention(query, key, value, attn_mask=mask)\n"
        ),
    },
    "q2_causal_mask": {
        "lets a position see the next one (tril(diagonal=1))": (
            "def causal_mask(length):\n"
            "    return torch.ones(length, length, dtype=torch.bool).tril(diagonal=1)\n"
        ),
        "upper triangle (sees the future, not the past)": (
            "def causal_mask(length):\n"
            "    return torch.ones(length, length, dtype=torch.bool).triu()\n"
        ),
        "a position cannot see itself (tril(diagonal=-1))": (
            "def causal_mask(length):\n"
            "    return torch.ones(length, length, dtype=torch.bool).tril(diagonal=-1)\n"
        ),
        "True = blocked (nn.MultiheadAttention's convention)": (
            "def causal_mask(length):\n"
            "    return torch.ones(length, length, dtype=torch.bool).triu(diagonal=1)\n"
        ),
        "float 0/1 matrix instead of booleans": (
            "def causal_mask(length):\n    return torch.ones(length, length).tril()\n"
        ),
    },
    "q3_multi_head": {
        "heads split by reshaping (batch, heads, L, d_head) (mixes positions and features)": _mha(
            "projected.reshape(batch, length, n_heads, d_head).transpose(1, 2)",
            "projected.reshape(batch, n_heads, length, d_head)",
        ),
        "heads split as (batch, L, d_head, heads)": _mha(
            "projected.reshape(batch, length, n_heads, d_head).transpose(1, 2)",
            "projected.reshape(batch, length, d_head, n_heads).permute(0, 3, 1, 2)",
        ),
        "heads merged without moving the head axis back": _mha(
            "(weights @ v).transpose(1, 2).reshape(batch, length, d_model)",
            "(weights @ v).reshape(batch, length, d_model)",
        ),
        "scaled by sqrt(d_model) instead of sqrt(d_head)": _mha(
            "math.sqrt(d_head)", "math.sqrt(d_model)"
        ),
        "output projection forgotten": _mha(
            "return merged @ out_proj_weight.T + out_proj_bias, weights",
            "return merged, weights",
        ),
        "projections not transposed (x @ W_q instead of x @ W_q.T)": _mha(
            "q, k, v = (x @ in_proj_weight.T + in_proj_bias).chunk(3, dim=-1)",
            "w_q, w_k, w_v = in_proj_weight.chunk(3)\n"
            "    b_q, b_k, b_v = in_proj_bias.chunk(3)\n"
            "    q, k, v = x @ w_q + b_q, x @ w_k + b_k, x @ w_v + b_v",
        ),
        "q, k, v unpacked in the wrong order (k, q, v)": _mha("q, k, v = (x @", "k, q, v = (x @"),
        "mask read as True = blocked": _mha("masked_fill(~mask,", "masked_fill(mask,"),
        "input biases forgotten": _mha(
            "(x @ in_proj_weight.T + in_proj_bias)", "(x @ in_proj_weight.T)"
        ),
        "rule: F.multi_head_attention_forward (nn.MultiheadAttention)": (
            "def multi_head_attention(\n"
            "    x, in_proj_weight, in_proj_bias, out_proj_weight, out_proj_bias, n_heads, mask=None\n"
            "):\n"
            "    q = x.transpose(0, 1)\n"
            "    out, weights = F.multi_head_attention_forward(\n"
            "        q, q, q, x.shape[-1], n_heads, in_proj_weight, in_proj_bias, None, None, False,\n"
            "        0.0, out_proj_weight, out_proj_bias, training=False,\n"
            "        attn_mask=None if mask is None else ~mask, average_attn_weights=False,\n"
            "    )\n"
            "    return out.transpose(0, 1), weights\n"
        ),
        "rule: bios740.attention.MultiHeadAttention": (
            "def multi_head_attention(\n"
            "    x, in_proj_weight, in_proj_bias, out_proj_weight, out_proj_bias, n_heads, mask=None\n"
            "):\n"
            "    module = attention.MultiHeadAttention(x.shape[-1], n_heads).to(x.dtype)\n"
            "    with torch.no_grad():\n"
            "        module.in_proj_weight.copy_(in_proj_weight)\n"
            "        module.in_proj_bias.copy_(in_proj_bias)\n"
            "        module.out_proj.weight.copy_(out_proj_weight)\n"
            "        module.out_proj.bias.copy_(out_proj_bias)\n"
            "    return module(x, attn_mask=mask)\n"
        ),
    },
    "q4_positional": {
        "sin and cos swapped": _pe("torch.sin(position", "torch.COS(position")
        .replace("torch.cos(position", "torch.sin(position")
        .replace("torch.COS(position", "torch.cos(position"),
        "frequency base 1000 instead of 10000": _pe("10000.0 **", "1000.0 **"),
        "exponent i/d instead of 2i/d": _pe(
            "torch.arange(0, d_model, 2, dtype=torch.float64) / d_model",
            "torch.arange(d_model // 2, dtype=torch.float64) / d_model",
        ),
        "exponent 4i/d (the 2 applied twice)": _pe(
            "-torch.arange(0, d_model, 2, dtype=torch.float64) / d_model",
            "-2 * torch.arange(0, d_model, 2, dtype=torch.float64) / d_model",
        ),
        "sines in the first half, cosines in the second": _pe(
            "    encoding[:, 0::2] = torch.sin(position * frequency)\n"
            "    encoding[:, 1::2] = torch.cos(position * frequency)\n",
            "    encoding[:, : d_model // 2] = torch.sin(position * frequency)\n"
            "    encoding[:, d_model // 2 :] = torch.cos(position * frequency)\n",
        ),
        "positions counted from 1": _pe(
            "torch.arange(length, dtype=torch.float64)",
            "torch.arange(1, length + 1, dtype=torch.float64)",
        ),
        "multiplied by the period instead of the frequency": _pe(
            "10000.0 ** (-torch.arange", "10000.0 ** (torch.arange"
        ),
        "float64 returned": _pe("return encoding.float()", "return encoding"),
        "rule: bios740.attention.sinusoidal_positional_encoding": (
            "def sinusoidal_encoding(length, d_model):\n"
            "    return attention.sinusoidal_positional_encoding(length, d_model)\n"
        ),
    },
    "q5_grammar_model": {
        "an untrained model": _train("    return GrammarTransformer(LENGTH).eval()\n"),
        "no positional encoding (order is invisible)": _train(
            "    return train_loop(GrammarTransformer(LENGTH, positions=False), train_data, epochs, seed)\n"
        ),
        "a CNN without attention (breaks the rule)": (
            _LOOP + "def train_grammar_model(train_data, val_data, epochs=EPOCHS, seed=SEED):\n"
            "    model = nn.Sequential(\n"
            "        nn.Embedding(4, 8), Transpose(), nn.Conv1d(8, 64, 7, padding=3), nn.ReLU(),\n"
            "        nn.MaxPool1d(4), nn.Conv1d(64, 64, 9, padding=4), nn.ReLU(),\n"
            "        nn.AdaptiveMaxPool1d(1), nn.Flatten(1), nn.Linear(64, 1), nn.Flatten(0),\n"
            "    )\n"
            "    return train_loop(model, train_data, 2, seed)\n"
            "\n\n"
            "class Transpose(nn.Module):\n"
            "    def forward(self, x):\n"
            "        return x.transpose(1, 2)\n" + _RUN
        ),
        "labels flipped (trained to find the negatives)": _train(
            "    return train_loop(GrammarTransformer(LENGTH), train_data, 4, seed, flip=True)\n"
        ),
    },
}

CORRECT = {
    "q1_attention": {
        "einsum and a large negative fill": (
            "def scaled_dot_product_attention(query, key, value, mask=None):\n"
            "    d = query.size(-1)\n"
            "    scores = torch.einsum('...ld,...sd->...ls', query, key) * d**-0.5\n"
            "    if mask is not None:\n"
            "        scores = torch.where(mask, scores, torch.full_like(scores, -1e30))\n"
            "    weights = torch.softmax(scores, dim=-1)\n"
            "    return torch.einsum('...ls,...sv->...lv', weights, value), weights\n"
        ),
        "softmax written out, masked weights renormalized": (
            "def scaled_dot_product_attention(query, key, value, mask=None):\n"
            "    scores = torch.matmul(query, key.mT) / query.shape[-1] ** 0.5\n"
            "    exp = torch.exp(scores - scores.amax(dim=-1, keepdim=True))\n"
            "    if mask is not None:\n"
            "        exp = exp * mask\n"
            "    weights = exp / exp.sum(dim=-1, keepdim=True)\n"
            "    return torch.matmul(weights, value), weights\n"
        ),
    },
    "q2_causal_mask": {
        "tril of ones": (
            "def causal_mask(length):\n    return torch.ones(length, length).tril().bool()\n"
        ),
        "NumPy's tri": (
            "def causal_mask(length):\n    return torch.from_numpy(np.tri(length, dtype=bool))\n"
        ),
    },
    "q3_multi_head": {
        "einsum per head with view and permute": (
            "def multi_head_attention(\n"
            "    x, in_proj_weight, in_proj_bias, out_proj_weight, out_proj_bias, n_heads, mask=None\n"
            "):\n"
            "    b, n, d = x.shape\n"
            "    qkv = F.linear(x, in_proj_weight, in_proj_bias).view(b, n, 3, n_heads, d // n_heads)\n"
            "    q, k, v = qkv.permute(2, 0, 3, 1, 4)\n"
            "    scores = torch.einsum('bhid,bhjd->bhij', q, k) / math.sqrt(d // n_heads)\n"
            "    if mask is not None:\n"
            "        scores = scores.masked_fill(mask.logical_not(), -math.inf)\n"
            "    weights = scores.softmax(-1)\n"
            "    out = torch.einsum('bhij,bhjd->bihd', weights, v).reshape(b, n, d)\n"
            "    return F.linear(out, out_proj_weight, out_proj_bias), weights\n"
        ),
        "a loop over heads with slices, calling question 1": (
            "def multi_head_attention(\n"
            "    x, in_proj_weight, in_proj_bias, out_proj_weight, out_proj_bias, n_heads, mask=None\n"
            "):\n"
            "    d = x.shape[-1]\n"
            "    size = d // n_heads\n"
            "    w = [in_proj_weight[i * d : (i + 1) * d] for i in range(3)]\n"
            "    bias = [in_proj_bias[i * d : (i + 1) * d] for i in range(3)]\n"
            "    outs, all_weights = [], []\n"
            "    for h in range(n_heads):\n"
            "        cut = slice(h * size, (h + 1) * size)\n"
            "        q, k, v = (x @ w[i][cut].T + bias[i][cut] for i in range(3))\n"
            "        out, weights = scaled_dot_product_attention(q, k, v, mask)\n"
            "        outs.append(out)\n"
            "        all_weights.append(weights)\n"
            "    merged = torch.cat(outs, dim=-1)\n"
            "    return merged @ out_proj_weight.T + out_proj_bias, torch.stack(all_weights, 1)\n"
        ),
    },
    "q4_positional": {
        "Python loops with math": (
            "def sinusoidal_encoding(length, d_model):\n"
            "    rows = []\n"
            "    for p in range(length):\n"
            "        row = []\n"
            "        for i in range(d_model // 2):\n"
            "            angle = p / 10000 ** (2 * i / d_model)\n"
            "            row += [math.sin(angle), math.cos(angle)]\n"
            "        rows.append(row)\n"
            "    return torch.tensor(rows, dtype=torch.float32)\n"
        ),
        "float32 with exp-log frequencies, interleaved by stack": (
            "def sinusoidal_encoding(length, d_model):\n"
            "    position = torch.arange(length).float().unsqueeze(1)\n"
            "    frequency = torch.exp(torch.arange(0, d_model, 2).float() * (-math.log(10000.0) / d_model))\n"
            "    angles = position * frequency\n"
            "    return torch.stack([angles.sin(), angles.cos()], dim=-1).reshape(length, d_model)\n"
        ),
    },
    "q5_grammar_model": {
        "nn.TransformerEncoderLayer, the question-4 encoding, a hand-written loop": (
            _LOOP + "class TorchGrammarModel(nn.Module):\n"
            "    def __init__(self, length):\n"
            "        super().__init__()\n"
            "        self.conv = nn.Conv1d(4, 128, 7, padding=3)\n"
            "        self.pool = nn.MaxPool1d(4)\n"
            "        self.project = nn.Linear(128, 32)\n"
            "        self.register_buffer('pe', sinusoidal_encoding(length // 4, 32))\n"
            "        self.layer = nn.TransformerEncoderLayer(\n"
            "            32, 4, 64, dropout=0.0, batch_first=True, norm_first=True\n"
            "        )\n"
            "        self.out = nn.Linear(32, 1)\n"
            "\n"
            "    def forward(self, codes):\n"
            "        x = F.one_hot(codes.long(), 4).float().transpose(1, 2)\n"
            "        tokens = self.project(self.pool(torch.relu(self.conv(x))).transpose(1, 2))\n"
            "        hidden = self.layer(tokens + self.pe)\n"
            "        return self.out(hidden.max(dim=1).values).squeeze(-1)\n"
            "\n\n"
            "def train_grammar_model(train_data, val_data, epochs=EPOCHS, seed=SEED):\n"
            "    return train_loop(TorchGrammarModel(LENGTH), train_data, epochs, seed)\n" + _RUN
        ),
    },
}
