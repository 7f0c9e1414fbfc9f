"""Plausible wrong answers to Chapter1/hw1_logistic_softmax.ipynb; each must fail a test.

tests/tools/test_homework.py runs every entry in place of the question's solution cell (the
blank the student receives is always tried as well) and fails unless at least one of the
question's tests, hidden ones included, rejects it.
"""

MISTAKES = {
    "q1_linear": {
        "missing bias": "def linear(X, W, b):\n    return X @ W\n",
        "bias added to the weights": "def linear(X, W, b):\n    return X @ (W + b)\n",
    },
    "q2_bce_loss": {
        "unstable (log of sigmoid)": (
            "def bce_loss(logits, y):\n"
            "    p = 1 / (1 + torch.exp(-logits))\n"
            "    return -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()\n"
        ),
        "max(z, 0) with clamp: wrong gradient at z = 0": (
            "def bce_loss(logits, y):\n"
            "    per_example = logits.clamp(min=0) - logits * y"
            " + torch.log1p(torch.exp(-logits.abs()))\n"
            "    return per_example.mean()\n"
        ),
        "sum instead of mean": (
            "def bce_loss(logits, y):\n"
            "    per_example = (logits + logits.abs()) / 2 - logits * y"
            " + torch.log1p(torch.exp(-logits.abs()))\n"
            "    return per_example.sum()\n"
        ),
        "labels swapped": (
            "def bce_loss(logits, y):\n"
            "    per_example = (logits + logits.abs()) / 2 - logits * (1 - y)"
            " + torch.log1p(torch.exp(-logits.abs()))\n"
            "    return per_example.mean()\n"
        ),
        "log1p(exp(-z)) without the absolute value": (
            "def bce_loss(logits, y):\n"
            "    per_example = (logits + logits.abs()) / 2 - logits * y"
            " + torch.log1p(torch.exp(-logits))\n"
            "    return per_example.mean()\n"
        ),
    },
    "q3_log_softmax": {
        "unstable softmax (no max subtracted)": (
            "def log_softmax(Z):\n"
            "    return torch.log(torch.exp(Z) / torch.exp(Z).sum(dim=1, keepdim=True))\n"
        ),
        "unstable log-sum-exp (no max subtracted)": (
            "def log_softmax(Z):\n    return Z - torch.log(torch.exp(Z).sum(dim=1, keepdim=True))\n"
        ),
        "normalized over the wrong axis": (
            "def log_softmax(Z):\n"
            "    shifted = Z - Z.max(dim=0, keepdim=True).values\n"
            "    return shifted - torch.log(torch.exp(shifted).sum(dim=0, keepdim=True))\n"
        ),
        "max subtracted but not added back": (
            "def log_softmax(Z):\n"
            "    m = Z.max(dim=1, keepdim=True).values\n"
            "    return Z - torch.log(torch.exp(Z - m).sum(dim=1, keepdim=True))\n"
        ),
        "softmax instead of log-softmax": (
            "def log_softmax(Z):\n"
            "    shifted = torch.exp(Z - Z.max(dim=1, keepdim=True).values)\n"
            "    return shifted / shifted.sum(dim=1, keepdim=True)\n"
        ),
    },
    "q4_cross_entropy": {
        "sum instead of mean": (
            "def cross_entropy(Z, y):\n    return -log_softmax(Z)[torch.arange(len(y)), y].sum()\n"
        ),
        "unstable softmax (no max subtracted)": (
            "def cross_entropy(Z, y):\n"
            "    p = torch.exp(Z) / torch.exp(Z).sum(dim=1, keepdim=True)\n"
            "    return -torch.log(p[torch.arange(len(y)), y]).mean()\n"
        ),
        "column indexing Z[:, y]": (
            "def cross_entropy(Z, y):\n    return -log_softmax(Z)[:, y].mean()\n"
        ),
        "mean over all n*K entries of the one-hot product": (
            "def cross_entropy(Z, y):\n"
            "    one_hot = torch.zeros_like(Z)\n"
            "    one_hot[torch.arange(len(y)), y] = 1\n"
            "    return -(one_hot * log_softmax(Z)).mean()\n"
        ),
        "raw scores instead of log-probabilities": (
            "def cross_entropy(Z, y):\n    return -Z[torch.arange(len(y)), y].mean()\n"
        ),
    },
    "q5_gd_step": {
        "gradient ascent (plus sign)": (
            "def gd_step(params, lr):\n"
            "    with torch.no_grad():\n"
            "        for p in params:\n"
            "            p += lr * p.grad\n"
            "            p.grad.zero_()\n"
        ),
        "gradients never reset": (
            "def gd_step(params, lr):\n"
            "    with torch.no_grad():\n"
            "        for p in params:\n"
            "            p -= lr * p.grad\n"
        ),
        "rebinds the name instead of updating in place": (
            "def gd_step(params, lr):\n"
            "    with torch.no_grad():\n"
            "        for p in params:\n"
            "            p = p - lr * p.grad\n"
            "            p.grad = None\n"
        ),
        "only the first parameter updated": (
            "def gd_step(params, lr):\n"
            "    with torch.no_grad():\n"
            "        params[0] -= lr * params[0].grad\n"
            "        for p in params:\n"
            "            p.grad.zero_()\n"
        ),
    },
    "q6_fit_logistic": {
        "bias never trained": (
            "def fit_logistic(X, y, epochs, lr):\n"
            "    W = torch.zeros(X.shape[1], dtype=X.dtype, requires_grad=True)\n"
            "    b = torch.zeros((), dtype=X.dtype)\n"
            "    losses = []\n"
            "    for _ in range(epochs):\n"
            "        loss = bce_loss(linear(X, W, b), y.to(X.dtype))\n"
            "        loss.backward()\n"
            "        losses.append(loss.item())\n"
            "        gd_step([W], lr)\n"
            "    return W.detach(), b.detach(), losses\n"
        ),
        "loss recorded after the step": (
            "def fit_logistic(X, y, epochs, lr):\n"
            "    W = torch.zeros(X.shape[1], dtype=X.dtype, requires_grad=True)\n"
            "    b = torch.zeros((), dtype=X.dtype, requires_grad=True)\n"
            "    losses = []\n"
            "    for _ in range(epochs):\n"
            "        bce_loss(linear(X, W, b), y.to(X.dtype)).backward()\n"
            "        gd_step([W, b], lr)\n"
            "        with torch.no_grad():\n"
            "            losses.append(bce_loss(linear(X, W, b), y.to(X.dtype)).item())\n"
            "    return W.detach(), b.detach(), losses\n"
        ),
        "random instead of zero initialization": (
            "def fit_logistic(X, y, epochs, lr):\n"
            "    W = (0.1 * torch.randn(X.shape[1], dtype=X.dtype)).requires_grad_()\n"
            "    b = torch.zeros((), dtype=X.dtype, requires_grad=True)\n"
            "    losses = []\n"
            "    for _ in range(epochs):\n"
            "        loss = bce_loss(linear(X, W, b), y.to(X.dtype))\n"
            "        loss.backward()\n"
            "        losses.append(loss.item())\n"
            "        gd_step([W, b], lr)\n"
            "    return W.detach(), b.detach(), losses\n"
        ),
        "one epoch short": (
            "def fit_logistic(X, y, epochs, lr):\n"
            "    W = torch.zeros(X.shape[1], dtype=X.dtype, requires_grad=True)\n"
            "    b = torch.zeros((), dtype=X.dtype, requires_grad=True)\n"
            "    losses = []\n"
            "    for _ in range(epochs - 1):\n"
            "        loss = bce_loss(linear(X, W, b), y.to(X.dtype))\n"
            "        loss.backward()\n"
            "        losses.append(loss.item())\n"
            "        gd_step([W, b], lr)\n"
            "    return W.detach(), b.detach(), losses\n"
        ),
    },
    "q7_fit_softmax": {
        "bias never trained": (
            "def fit_softmax(X, y, n_classes, epochs, lr):\n"
            "    W = torch.zeros(X.shape[1], n_classes, dtype=X.dtype, requires_grad=True)\n"
            "    b = torch.zeros(n_classes, dtype=X.dtype)\n"
            "    losses = []\n"
            "    for _ in range(epochs):\n"
            "        loss = cross_entropy(linear(X, W, b), y)\n"
            "        loss.backward()\n"
            "        losses.append(loss.item())\n"
            "        gd_step([W], lr)\n"
            "    return W.detach(), b.detach(), losses\n"
        ),
        "learning rate ignored": (
            "def fit_softmax(X, y, n_classes, epochs, lr):\n"
            "    W = torch.zeros(X.shape[1], n_classes, dtype=X.dtype, requires_grad=True)\n"
            "    b = torch.zeros(n_classes, dtype=X.dtype, requires_grad=True)\n"
            "    losses = []\n"
            "    for _ in range(epochs):\n"
            "        loss = cross_entropy(linear(X, W, b), y)\n"
            "        loss.backward()\n"
            "        losses.append(loss.item())\n"
            "        gd_step([W, b], 0.1)\n"
            "    return W.detach(), b.detach(), losses\n"
        ),
        "losses kept as tensors on the graph": (
            "def fit_softmax(X, y, n_classes, epochs, lr):\n"
            "    W = torch.zeros(X.shape[1], n_classes, dtype=X.dtype, requires_grad=True)\n"
            "    b = torch.zeros(n_classes, dtype=X.dtype, requires_grad=True)\n"
            "    losses = []\n"
            "    for _ in range(epochs):\n"
            "        loss = cross_entropy(linear(X, W, b), y)\n"
            "        loss.backward()\n"
            "        losses.append(loss)\n"
            "        gd_step([W, b], lr)\n"
            "    return W, b, losses\n"
        ),
    },
    "q8_accuracy": {
        "threshold 0.5 on logits": (
            "def accuracy(scores, y):\n"
            "    if scores.ndim == 1:\n"
            "        predictions = (scores > 0.5).long()\n"
            "    else:\n"
            "        predictions = scores.argmax(dim=1)\n"
            "    return (predictions == y).float().mean().item()\n"
        ),
        "argmax over the wrong axis": (
            "def accuracy(scores, y):\n"
            "    if scores.ndim == 1:\n"
            "        predictions = (scores > 0).long()\n"
            "    else:\n"
            "        predictions = scores.argmax(dim=0)\n"
            "    return (predictions == y).float().mean().item()\n"
        ),
        "count instead of fraction": (
            "def accuracy(scores, y):\n"
            "    if scores.ndim == 1:\n"
            "        predictions = (scores > 0).long()\n"
            "    else:\n"
            "        predictions = scores.argmax(dim=1)\n"
            "    return float((predictions == y).sum())\n"
        ),
    },
}

# Rule-breaks and further slips (issue 11): the tests run the answers with torch.nn,
# torch.optim and the library softmax/log-sum-exp/loss functions switched off.
_MORE_MISTAKES = {
    "q1_linear": {
        "rule: F.linear": "def linear(X, W, b):\n    return F.linear(X, W.T, b)\n",
        "weights transposed": "def linear(X, W, b):\n    return X @ W.T + b\n",
    },
    "q2_bce_loss": {
        "rule: F.binary_cross_entropy_with_logits": (
            "def bce_loss(logits, y):\n    return F.binary_cross_entropy_with_logits(logits, y)\n"
        ),
        "rule: nn.BCEWithLogitsLoss": (
            "def bce_loss(logits, y):\n    return torch.nn.BCEWithLogitsLoss()(logits, y)\n"
        ),
        "rule: F.softplus": (
            "def bce_loss(logits, y):\n"
            "    return (F.softplus(-logits.abs()) + (logits + logits.abs()) / 2"
            " - logits * y).mean()\n"
        ),
        "probabilities clamped away from 0 and 1": (
            "def bce_loss(logits, y):\n"
            "    p = (1 / (1 + torch.exp(-logits))).clamp(1e-7, 1 - 1e-7)\n"
            "    return -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()\n"
        ),
        "torch.where for max(z, 0): wrong gradient at z = 0": (
            "def bce_loss(logits, y):\n"
            "    positive = torch.where(logits > 0, logits, torch.zeros_like(logits))\n"
            "    return (positive - logits * y + torch.log1p(torch.exp(-logits.abs()))).mean()\n"
        ),
    },
    "q3_log_softmax": {
        "rule: F.log_softmax": "def log_softmax(Z):\n    return F.log_softmax(Z, dim=1)\n",
        "rule: torch.logsumexp": (
            "def log_softmax(Z):\n    return Z - torch.logsumexp(Z, dim=1, keepdim=True)\n"
        ),
        "rule: Tensor.log_softmax": "def log_softmax(Z):\n    return Z.log_softmax(dim=1)\n",
        "rule: log of torch.softmax": (
            "def log_softmax(Z):\n    return torch.log(torch.softmax(Z, dim=1))\n"
        ),
        "one global maximum instead of one per row": (
            "def log_softmax(Z):\n"
            "    shifted = Z - Z.max()\n"
            "    return shifted - torch.log(torch.exp(shifted).sum(dim=1, keepdim=True))\n"
        ),
    },
    "q4_cross_entropy": {
        "rule: F.cross_entropy": "def cross_entropy(Z, y):\n    return F.cross_entropy(Z, y)\n",
        "rule: F.nll_loss": (
            "def cross_entropy(Z, y):\n    return F.nll_loss(log_softmax(Z), y)\n"
        ),
        "log-probability of the first class for everyone": (
            "def cross_entropy(Z, y):\n    return -log_softmax(Z)[:, 0].mean()\n"
        ),
    },
    "q5_gd_step": {
        "rule: torch.optim.SGD inside": (
            "def gd_step(params, lr):\n"
            "    torch.optim.SGD(params, lr=lr).step()\n"
            "    for p in params:\n"
            "        p.grad.zero_()\n"
        ),
        "gradient reset before the update": (
            "def gd_step(params, lr):\n"
            "    with torch.no_grad():\n"
            "        for p in params:\n"
            "            p.grad.zero_()\n"
            "            p -= lr * p.grad\n"
        ),
        "learning rate squared": (
            "def gd_step(params, lr):\n"
            "    with torch.no_grad():\n"
            "        for p in params:\n"
            "            p -= lr * lr * p.grad\n"
            "            p.grad.zero_()\n"
        ),
    },
    "q6_fit_logistic": {
        "W and b returned still attached to the graph": (
            "def fit_logistic(X, y, epochs, lr):\n"
            "    W = torch.zeros(X.shape[1], dtype=X.dtype, requires_grad=True)\n"
            "    b = torch.zeros((), dtype=X.dtype, requires_grad=True)\n"
            "    losses = []\n"
            "    for _ in range(epochs):\n"
            "        loss = bce_loss(linear(X, W, b), y.to(X.dtype))\n"
            "        loss.backward()\n"
            "        losses.append(loss.item())\n"
            "        gd_step([W, b], lr)\n"
            "    return W, b, losses\n"
        ),
        "rule: torch.optim.SGD instead of gd_step": (
            "def fit_logistic(X, y, epochs, lr):\n"
            "    W = torch.zeros(X.shape[1], dtype=X.dtype, requires_grad=True)\n"
            "    b = torch.zeros((), dtype=X.dtype, requires_grad=True)\n"
            "    optimizer = torch.optim.SGD([W, b], lr=lr)\n"
            "    losses = []\n"
            "    for _ in range(epochs):\n"
            "        optimizer.zero_grad()\n"
            "        loss = bce_loss(linear(X, W, b), y.to(X.dtype))\n"
            "        loss.backward()\n"
            "        losses.append(loss.item())\n"
            "        optimizer.step()\n"
            "    return W.detach(), b.detach(), losses\n"
        ),
        "losses kept as tensors": (
            "def fit_logistic(X, y, epochs, lr):\n"
            "    W = torch.zeros(X.shape[1], dtype=X.dtype, requires_grad=True)\n"
            "    b = torch.zeros((), dtype=X.dtype, requires_grad=True)\n"
            "    losses = []\n"
            "    for _ in range(epochs):\n"
            "        loss = bce_loss(linear(X, W, b), y.to(X.dtype))\n"
            "        loss.backward()\n"
            "        losses.append(loss.detach())\n"
            "        gd_step([W, b], lr)\n"
            "    return W.detach(), b.detach(), losses\n"
        ),
        "bias of shape (1,)": (
            "def fit_logistic(X, y, epochs, lr):\n"
            "    W = torch.zeros(X.shape[1], dtype=X.dtype, requires_grad=True)\n"
            "    b = torch.zeros(1, dtype=X.dtype, requires_grad=True)\n"
            "    losses = []\n"
            "    for _ in range(epochs):\n"
            "        loss = bce_loss(linear(X, W, b), y.to(X.dtype))\n"
            "        loss.backward()\n"
            "        losses.append(loss.item())\n"
            "        gd_step([W, b], lr)\n"
            "    return W.detach(), b.detach(), losses\n"
        ),
    },
    "q7_fit_softmax": {
        "W and b returned still attached to the graph": (
            "def fit_softmax(X, y, n_classes, epochs, lr):\n"
            "    W = torch.zeros(X.shape[1], n_classes, dtype=X.dtype, requires_grad=True)\n"
            "    b = torch.zeros(n_classes, dtype=X.dtype, requires_grad=True)\n"
            "    losses = []\n"
            "    for _ in range(epochs):\n"
            "        loss = cross_entropy(linear(X, W, b), y)\n"
            "        loss.backward()\n"
            "        losses.append(loss.item())\n"
            "        gd_step([W, b], lr)\n"
            "    return W, b, losses\n"
        ),
        "rule: F.cross_entropy in the loop": (
            "def fit_softmax(X, y, n_classes, epochs, lr):\n"
            "    W = torch.zeros(X.shape[1], n_classes, dtype=X.dtype, requires_grad=True)\n"
            "    b = torch.zeros(n_classes, dtype=X.dtype, requires_grad=True)\n"
            "    losses = []\n"
            "    for _ in range(epochs):\n"
            "        loss = F.cross_entropy(linear(X, W, b), y)\n"
            "        loss.backward()\n"
            "        losses.append(loss.item())\n"
            "        gd_step([W, b], lr)\n"
            "    return W.detach(), b.detach(), losses\n"
        ),
    },
    "q8_accuracy": {
        "argmax over the flattened scores": (
            "def accuracy(scores, y):\n"
            "    if scores.ndim == 1:\n"
            "        predictions = (scores > 0).long()\n"
            "    else:\n"
            "        predictions = scores.argmax()\n"
            "    return (predictions == y).float().mean().item()\n"
        ),
    },
}
for _question, _entries in _MORE_MISTAKES.items():
    MISTAKES[_question].update(_entries)

# Correct answers written differently from the solution: every test must accept them.
CORRECT = {
    "q1_linear": {
        "torch.matmul": "def linear(X, W, b):\n    return torch.matmul(X, W) + b\n",
        "einsum": "def linear(X, W, b):\n    return torch.einsum('nd,d...->n...', X, W) + b\n",
    },
    "q2_bce_loss": {
        "log-sigmoid of z and -z": (
            "def bce_loss(logits, y):\n"
            "    tail = torch.log1p(torch.exp(-logits.abs()))\n"
            "    log_p = (logits - logits.abs()) / 2 - tail\n"
            "    log_not_p = (-logits - logits.abs()) / 2 - tail\n"
            "    return -(y * log_p + (1 - y) * log_not_p).mean()\n"
        ),
        "log(1 + exp) and a sum over n": (
            "def bce_loss(logits, y):\n"
            "    terms = 0.5 * (logits + logits.abs()) - logits * y"
            " + torch.log(1 + torch.exp(-logits.abs()))\n"
            "    return terms.sum() / logits.shape[0]\n"
        ),
    },
    "q3_log_softmax": {
        "amax and log-sum-exp written out": (
            "def log_softmax(Z):\n"
            "    m = Z.amax(dim=1, keepdim=True)\n"
            "    return Z - (m + torch.log(torch.exp(Z - m).sum(dim=1, keepdim=True)))\n"
        ),
        "one row at a time": (
            "def log_softmax(Z):\n"
            "    rows = []\n"
            "    for row in Z:\n"
            "        shifted = row - row.max()\n"
            "        rows.append(shifted - torch.log(torch.exp(shifted).sum()))\n"
            "    return torch.stack(rows)\n"
        ),
    },
    "q4_cross_entropy": {
        "one-hot mask": (
            "def cross_entropy(Z, y):\n"
            "    one_hot = torch.zeros_like(Z)\n"
            "    one_hot[torch.arange(Z.shape[0]), y] = 1.0\n"
            "    return -(one_hot * log_softmax(Z)).sum(dim=1).mean()\n"
        ),
        "gather": (
            "def cross_entropy(Z, y):\n    return -log_softmax(Z).gather(1, y[:, None]).mean()\n"
        ),
    },
    "q5_gd_step": {
        "through .data, gradient set to None": (
            "def gd_step(params, lr):\n"
            "    for p in params:\n"
            "        p.data -= lr * p.grad\n"
            "        p.grad = None\n"
        ),
        "sub_ with alpha": (
            "def gd_step(params, lr):\n"
            "    with torch.no_grad():\n"
            "        for p in params:\n"
            "            p.sub_(p.grad, alpha=lr)\n"
            "            p.grad.zero_()\n"
        ),
    },
    "q6_fit_logistic": {
        "requires_grad_ and float(loss)": (
            "def fit_logistic(X, y, epochs, lr):\n"
            "    W = torch.zeros(X.shape[1], dtype=X.dtype).requires_grad_()\n"
            "    b = torch.tensor(0.0, dtype=X.dtype).requires_grad_()\n"
            "    y = y.to(X.dtype)\n"
            "    losses = []\n"
            "    for epoch in range(epochs):\n"
            "        loss = bce_loss(linear(X, W, b), y)\n"
            "        loss.backward()\n"
            "        losses.append(float(loss))\n"
            "        gd_step([W, b], lr)\n"
            "    return W.detach().clone(), b.detach().clone(), losses\n"
        ),
    },
    "q7_fit_softmax": {
        "zeros_like-free, list of floats built at the end": (
            "def fit_softmax(X, y, n_classes, epochs, lr):\n"
            "    W = torch.zeros((X.shape[1], n_classes), dtype=X.dtype, requires_grad=True)\n"
            "    b = torch.zeros((n_classes,), dtype=X.dtype, requires_grad=True)\n"
            "    recorded = []\n"
            "    for _ in range(epochs):\n"
            "        loss = cross_entropy(linear(X, W, b), y)\n"
            "        loss.backward()\n"
            "        recorded.append(loss.detach())\n"
            "        gd_step([W, b], lr)\n"
            "    return W.detach(), b.detach(), [t.item() for t in recorded]\n"
        ),
    },
    "q8_accuracy": {
        "sigmoid above one half, count over length": (
            "def accuracy(scores, y):\n"
            "    if scores.dim() == 2:\n"
            "        predicted = torch.max(scores, dim=1).indices\n"
            "    else:\n"
            "        predicted = (torch.sigmoid(scores) > 0.5).long()\n"
            "    return (predicted == y).sum().item() / len(y)\n"
        ),
    },
}
