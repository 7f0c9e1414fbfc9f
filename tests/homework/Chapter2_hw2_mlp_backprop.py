"""Plausible wrong answers to Chapter2/hw2_mlp_backprop.ipynb; each must fail a test.

tests/tools/test_homework.py runs every entry in place of the question's solution cell (the
blank the student receives is always tried as well) and fails unless at least one of the
question's tests, hidden ones included, rejects it.
"""

_LINEAR_FORWARD = "def linear_forward(X, W, b):\n    return X @ W + b\n\n\n"
_RELU_FORWARD = "def relu_forward(Z):\n    return Z.clamp(min=0)\n\n\n"
_TANH_FORWARD = "def tanh_forward(Z):\n    return torch.tanh(Z)\n\n\n"
_RELU_BACKWARD = "def relu_backward(dH, Z):\n    return dH * (Z > 0)\n\n\n"
_TANH_BACKWARD = "def tanh_backward(dH, Z):\n    return dH * (1 - torch.tanh(Z) ** 2)\n\n\n"
_SIGMOID = "def sigmoid(z):\n    return 1 / (1 + torch.exp(-z))\n\n\n"
_BCE_FORWARD = (
    "def bce_forward(z, y):\n"
    "    return (z.clamp(min=0) - z * y + torch.log1p(torch.exp(-z.abs()))).mean()\n\n\n"
)
_BCE_BACKWARD = "def bce_backward(z, y):\n    return (sigmoid(z) - y) / z.shape[0]\n\n\n"
_SOFTMAX = (
    "def softmax(Z):\n"
    "    e = torch.exp(Z - Z.max(dim=1, keepdim=True).values)\n"
    "    return e / e.sum(dim=1, keepdim=True)\n\n\n"
)
_CE_FORWARD = (
    "def cross_entropy_forward(Z, y):\n"
    "    s = Z - Z.max(dim=1, keepdim=True).values\n"
    "    logp = s - torch.log(torch.exp(s).sum(dim=1, keepdim=True))\n"
    "    return -logp[torch.arange(Z.shape[0]), y].mean()\n\n\n"
)
_CE_BACKWARD = (
    "def cross_entropy_backward(Z, y):\n"
    "    g = softmax(Z)\n"
    "    g[torch.arange(Z.shape[0]), y] -= 1\n"
    "    return g / Z.shape[0]\n\n\n"
)
_MLP_FORWARD = (
    "def mlp_forward(X, params, activation='relu'):\n"
    "    phi, _ = ACTIVATIONS[activation]\n"
    "    Z1 = linear_forward(X, params['W1'], params['b1'])\n"
    "    H = phi(Z1)\n"
    "    return linear_forward(H, params['W2'], params['b2'])[:, 0], {'X': X, 'Z1': Z1, 'H': H}\n"
    "\n\n"
)
_NUMERICAL_GRADIENT = (
    "def numerical_gradient(f, theta, eps=1e-6):\n"
    "    gradient = torch.zeros_like(theta)\n"
    "    flat, flat_gradient = theta.view(-1), gradient.view(-1)\n"
    "    for j in range(flat.numel()):\n"
    "        original = flat[j].item()\n"
    "        flat[j] = original + eps\n"
    "        upper = float(f())\n"
    "        flat[j] = original - eps\n"
    "        lower = float(f())\n"
    "        flat[j] = original\n"
    "        flat_gradient[j] = (upper - lower) / (2 * eps)\n"
    "    return gradient\n\n\n"
)
_RELATIVE_ERROR = (
    "def relative_error(a, b):\n"
    "    return ((a - b).abs().max() / max(a.abs().max() + b.abs().max(), 1e-12)).item()\n\n\n"
)


def _train(
    step_line="sgd_momentum_step(params, grads, velocities, lr, momentum)", labels="y[batch]"
):
    return (
        "def train_mlp(X, y, hidden, epochs, lr, momentum, batch_size, activation='relu', seed=0):\n"
        "    g = torch.Generator().manual_seed(seed)\n"
        "    params = init_params(X.shape[1], hidden, seed)\n"
        "    velocities = zero_velocities(params)\n"
        "    history = []\n"
        "    for _ in range(epochs):\n"
        "        order = torch.randperm(X.shape[0], generator=g)\n"
        "        for start in range(0, X.shape[0], batch_size):\n"
        "            batch = order[start : start + batch_size]\n"
        "            logits, cache = mlp_forward(X[batch], params, activation)\n"
        f"            grads = mlp_backward({labels}, logits, cache, params, activation)\n"
        f"            {step_line}\n"
        "        history.append(bce_forward(mlp_forward(X, params, activation)[0], y).item())\n"
        "    return params, history\n"
    )


def _mlp_backward(
    dz2="bce_backward(logits, y)[:, None]",
    h="cache['H']",
    phi_back="phi_backward(dH, cache['Z1'])",
    activation_lookup="ACTIVATIONS[activation]",
):
    return _MLP_FORWARD + (
        "def mlp_backward(y, logits, cache, params, activation='relu'):\n"
        f"    _, phi_backward = {activation_lookup}\n"
        f"    dZ2 = {dz2}\n"
        f"    dH, dW2, db2 = linear_backward(dZ2, {h}, params['W2'])\n"
        f"    dZ1 = {phi_back}\n"
        "    _, dW1, db1 = linear_backward(dZ1, cache['X'], params['W1'])\n"
        "    return {'W1': dW1, 'b1': db1, 'W2': dW2, 'b2': db2}\n"
    )


MISTAKES = {
    "q1_linear": {
        "transposed weight gradient": _LINEAR_FORWARD
        + "def linear_backward(dZ, X, W):\n    return dZ @ W.T, dZ.T @ X, dZ.sum(dim=0)\n",
        "transposed weight gradient, transposed back": _LINEAR_FORWARD
        + "def linear_backward(dZ, X, W):\n    return dZ @ W.T, (dZ.T @ X).reshape(W.shape), dZ.sum(dim=0)\n",
        "missing bias gradient (zeros)": _LINEAR_FORWARD + "def linear_backward(dZ, X, W):\n"
        "    return dZ @ W.T, X.T @ dZ, torch.zeros(dZ.shape[1], dtype=dZ.dtype)\n",
        "missing bias gradient (None)": _LINEAR_FORWARD
        + "def linear_backward(dZ, X, W):\n    return dZ @ W.T, X.T @ dZ, None\n",
        "bias gradient averaged instead of summed": _LINEAR_FORWARD
        + "def linear_backward(dZ, X, W):\n    return dZ @ W.T, X.T @ dZ, dZ.mean(dim=0)\n",
        "input gradient without the transpose": _LINEAR_FORWARD + "def linear_backward(dZ, X, W):\n"
        "    return dZ @ W, X.T @ dZ, dZ.sum(dim=0)\n",
        "forward without the bias": "def linear_forward(X, W, b):\n    return X @ W\n\n\n"
        "def linear_backward(dZ, X, W):\n    return dZ @ W.T, X.T @ dZ, dZ.sum(dim=0)\n",
    },
    "q2_activations": {
        "ReLU derivative 1 at negative inputs (gradient passed through)": _RELU_FORWARD
        + "def relu_backward(dH, Z):\n    return dH\n\n\n"
        + _TANH_FORWARD
        + _TANH_BACKWARD,
        "ReLU derivative -1 at negative inputs (sign instead of step)": _RELU_FORWARD
        + "def relu_backward(dH, Z):\n    return dH * torch.sign(Z)\n\n\n"
        + _TANH_FORWARD
        + _TANH_BACKWARD,
        "ReLU derivative 0.01 at negative inputs (leaky)": _RELU_FORWARD
        + "def relu_backward(dH, Z):\n    return dH * torch.where(Z > 0, 1.0, 0.01)\n\n\n"
        + _TANH_FORWARD
        + _TANH_BACKWARD,
        "ReLU backward multiplied by the activation": _RELU_FORWARD
        + "def relu_backward(dH, Z):\n    return dH * Z.clamp(min=0)\n\n\n"
        + _TANH_FORWARD
        + _TANH_BACKWARD,
        "ReLU derivative 1 at zero": _RELU_FORWARD
        + "def relu_backward(dH, Z):\n    return dH * (Z >= 0)\n\n\n"
        + _TANH_FORWARD
        + _TANH_BACKWARD,
        "tanh derivative from the pre-activation": _RELU_FORWARD
        + _RELU_BACKWARD
        + _TANH_FORWARD
        + "def tanh_backward(dH, Z):\n    return dH * (1 - Z**2)\n",
        "tanh derivative without the square": _RELU_FORWARD
        + _RELU_BACKWARD
        + _TANH_FORWARD
        + "def tanh_backward(dH, Z):\n    return dH * (1 - torch.tanh(Z))\n",
    },
    "q3_sigmoid_bce": {
        "gradient without 1/n": _SIGMOID
        + _BCE_FORWARD
        + "def bce_backward(z, y):\n    return sigmoid(z) - y\n",
        "extra sigmoid derivative factor": _SIGMOID + _BCE_FORWARD + "def bce_backward(z, y):\n"
        "    return (sigmoid(z) - y) * sigmoid(z) * (1 - sigmoid(z)) / z.shape[0]\n",
        "gradient with the wrong sign": _SIGMOID
        + _BCE_FORWARD
        + "def bce_backward(z, y):\n    return (y - sigmoid(z)) / z.shape[0]\n",
        "unstable loss (log of the sigmoid)": _SIGMOID + "def bce_forward(z, y):\n"
        "    p = sigmoid(z)\n"
        "    return -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()\n\n\n" + _BCE_BACKWARD,
        "loss summed instead of averaged": _SIGMOID + "def bce_forward(z, y):\n"
        "    return (z.clamp(min=0) - z * y + torch.log1p(torch.exp(-z.abs()))).sum()\n\n\n"
        + _BCE_BACKWARD,
    },
    "q4_softmax_ce": {
        "softmax without subtracting the maximum": (
            "def softmax(Z):\n    e = torch.exp(Z)\n    return e / e.sum(dim=1, keepdim=True)\n\n\n"
            "def cross_entropy_forward(Z, y):\n"
            "    return -torch.log(softmax(Z)[torch.arange(Z.shape[0]), y]).mean()\n\n\n"
        )
        + _CE_BACKWARD,
        "softmax over the wrong axis": (
            "def softmax(Z):\n"
            "    e = torch.exp(Z - Z.max(dim=0, keepdim=True).values)\n"
            "    return e / e.sum(dim=0, keepdim=True)\n\n\n"
        )
        + _CE_FORWARD
        + _CE_BACKWARD,
        "gradient without the one-hot": _SOFTMAX
        + _CE_FORWARD
        + "def cross_entropy_backward(Z, y):\n    return softmax(Z) / Z.shape[0]\n",
        "gradient without 1/n": _SOFTMAX + _CE_FORWARD + "def cross_entropy_backward(Z, y):\n"
        "    g = softmax(Z)\n    g[torch.arange(Z.shape[0]), y] -= 1\n    return g\n",
    },
    "q5_mlp_backprop": {
        "activation derivative forgotten": _mlp_backward(phi_back="dH"),
        "weight gradient of layer 2 from the pre-activation": _mlp_backward(h="cache['Z1']"),
        "always the ReLU derivative": _mlp_backward(activation_lookup="ACTIVATIONS['relu']"),
        "loss gradient without 1/n": _mlp_backward(dz2="(sigmoid(logits) - y)[:, None]"),
    },
    "q6_gradient_check": {
        "one-sided (forward) difference": (
            "def numerical_gradient(f, theta, eps=1e-6):\n"
            "    gradient = torch.zeros_like(theta)\n"
            "    flat, flat_gradient = theta.view(-1), gradient.view(-1)\n"
            "    base = float(f())\n"
            "    for j in range(flat.numel()):\n"
            "        original = flat[j].item()\n"
            "        flat[j] = original + eps\n"
            "        flat_gradient[j] = (float(f()) - base) / eps\n"
            "        flat[j] = original\n"
            "    return gradient\n\n\n"
        )
        + _RELATIVE_ERROR,
        "theta not restored": (
            "def numerical_gradient(f, theta, eps=1e-6):\n"
            "    gradient = torch.zeros_like(theta)\n"
            "    flat, flat_gradient = theta.view(-1), gradient.view(-1)\n"
            "    for j in range(flat.numel()):\n"
            "        original = flat[j].item()\n"
            "        flat[j] = original + eps\n"
            "        upper = float(f())\n"
            "        flat[j] = original - eps\n"
            "        lower = float(f())\n"
            "        flat_gradient[j] = (upper - lower) / (2 * eps)\n"
            "    return gradient\n\n\n"
        )
        + _RELATIVE_ERROR,
        "divided by eps instead of 2 eps": _NUMERICAL_GRADIENT.replace("(2 * eps)", "eps")
        + _RELATIVE_ERROR,
        "relative error without the denominator": _NUMERICAL_GRADIENT
        + "def relative_error(a, b):\n    return (a - b).abs().max().item()\n",
    },
    "q7_sgd_momentum": {
        "no momentum": (
            "def sgd_momentum_step(params, grads, velocities, lr, momentum):\n"
            "    for name in params:\n"
            "        velocities[name].copy_(grads[name])\n"
            "        params[name].sub_(lr * velocities[name])\n"
        ),
        "step uphill": (
            "def sgd_momentum_step(params, grads, velocities, lr, momentum):\n"
            "    for name in params:\n"
            "        velocities[name].mul_(momentum).add_(grads[name])\n"
            "        params[name].add_(lr * velocities[name])\n"
        ),
        "dampened velocity (EMA of gradients)": (
            "def sgd_momentum_step(params, grads, velocities, lr, momentum):\n"
            "    for name in params:\n"
            "        velocities[name].mul_(momentum).add_((1 - momentum) * grads[name])\n"
            "        params[name].sub_(lr * velocities[name])\n"
        ),
        "not in place (returns new tensors)": (
            "def sgd_momentum_step(params, grads, velocities, lr, momentum):\n"
            "    new_v = {k: momentum * velocities[k] + grads[k] for k in params}\n"
            "    return {k: params[k] - lr * new_v[k] for k in params}, new_v\n"
        ),
    },
    "q8_train": {
        "steps uphill": _train(
            step_line="sgd_momentum_step(params, grads, velocities, -lr, momentum)"
        ),
        "labels of the wrong rows (shuffled inputs, unshuffled labels)": _train(
            labels="y[start : start + batch_size]"
        ),
    },
}

# Rule-breaks and further slips (issue 11). The tests run the answers with autograd,
# torch.nn, torch.optim and the library softmax/cross-entropy switched off, and compare
# Question 8 exactly with autograd + torch.optim.SGD on several batches with momentum
# and a partial last batch.
_TRAIN = _train()


def _train_edit(old: str, new: str) -> str:
    assert old in _TRAIN, old
    return _TRAIN.replace(old, new)


_AUTOGRAD_BACKWARD = (
    _MLP_FORWARD + "def mlp_backward(y, logits, cache, params, activation='relu'):\n"
    "    leaves = {k: v.clone().requires_grad_(True) for k, v in params.items()}\n"
    "    phi, _ = ACTIVATIONS[activation]\n"
    "    z = linear_forward(phi(linear_forward(cache['X'], leaves['W1'], leaves['b1'])),"
    " leaves['W2'], leaves['b2'])[:, 0]\n"
    "    names = list(leaves)\n"
    "    grads = torch.autograd.grad(bce_forward(z, y), [leaves[k] for k in names])\n"
    "    return dict(zip(names, grads))\n"
)

_MORE_MISTAKES = {
    "q1_linear": {
        "rule: autograd for the backward pass": _LINEAR_FORWARD + "def linear_backward(dZ, X, W):\n"
        "    X, W = X.clone().requires_grad_(True), W.clone().requires_grad_(True)\n"
        "    b = torch.zeros(W.shape[1], dtype=W.dtype, requires_grad=True)\n"
        "    (linear_forward(X, W, b) * dZ).sum().backward()\n"
        "    return X.grad, W.grad, b.grad\n",
        "rule: F.linear forward": "def linear_forward(X, W, b):\n    return F.linear(X, W.T, b)\n\n\n"
        "def linear_backward(dZ, X, W):\n    return dZ @ W.T, X.T @ dZ, dZ.sum(dim=0)\n",
    },
    "q2_activations": {
        "tanh derivative 1/cosh (not squared)": _RELU_FORWARD
        + _RELU_BACKWARD
        + _TANH_FORWARD
        + "def tanh_backward(dH, Z):\n    return dH / torch.cosh(Z)\n",
        "rule: F.relu": "def relu_forward(Z):\n    return F.relu(Z)\n\n\n"
        + _RELU_BACKWARD
        + _TANH_FORWARD
        + _TANH_BACKWARD,
        "rule: autograd for tanh backward": _RELU_FORWARD
        + _RELU_BACKWARD
        + _TANH_FORWARD
        + "def tanh_backward(dH, Z):\n"
        "    Z = Z.clone().requires_grad_(True)\n"
        "    return torch.autograd.grad(torch.tanh(Z), Z, dH)[0]\n",
    },
    "q3_sigmoid_bce": {
        "rule: F.binary_cross_entropy_with_logits": _SIGMOID
        + "def bce_forward(z, y):\n    return F.binary_cross_entropy_with_logits(z, y)\n\n\n"
        + _BCE_BACKWARD,
        "gradient y - sigmoid(z) over n, from the forward of -L": _SIGMOID
        + _BCE_FORWARD
        + "def bce_backward(z, y):\n    return (y - sigmoid(z)) / len(z)\n",
    },
    "q4_softmax_ce": {
        "rule: torch.softmax": "def softmax(Z):\n    return torch.softmax(Z, dim=1)\n\n\n"
        + _CE_FORWARD
        + _CE_BACKWARD,
        "rule: F.cross_entropy": _SOFTMAX
        + "def cross_entropy_forward(Z, y):\n    return F.cross_entropy(Z, y)\n\n\n"
        + _CE_BACKWARD,
    },
    "q5_mlp_backprop": {
        "rule: autograd inside mlp_backward": _AUTOGRAD_BACKWARD,
        "tanh derivative from the activation H instead of Z1": _mlp_backward(
            phi_back="phi_backward(dH, cache['H'])"
        ),
    },
    "q6_gradient_check": {
        "rule: autograd instead of differences": (
            "def numerical_gradient(f, theta, eps=1e-6):\n"
            "    theta.requires_grad_(True)\n"
            "    value = f()\n"
            "    (gradient,) = torch.autograd.grad(value, theta)\n"
            "    theta.requires_grad_(False)\n"
            "    return gradient\n\n\n"
        )
        + _RELATIVE_ERROR,
        "perturbed copies, theta never perturbed (f reads theta)": (
            "def numerical_gradient(f, theta, eps=1e-6):\n"
            "    gradient = torch.zeros_like(theta)\n"
            "    for j in range(theta.numel()):\n"
            "        step = torch.zeros_like(theta).view(-1)\n"
            "        step[j] = eps\n"
            "        shifted = theta + step.view(theta.shape)\n"
            "        gradient.view(-1)[j] = (float(f()) - float(f())) / (2 * eps)\n"
            "    return gradient\n\n\n"
        )
        + _RELATIVE_ERROR,
    },
    "q7_sgd_momentum": {
        "rule: torch.optim.SGD inside": (
            "def sgd_momentum_step(params, grads, velocities, lr, momentum):\n"
            "    leaves = [params[k] for k in params]\n"
            "    for leaf, k in zip(leaves, params):\n"
            "        leaf.grad = grads[k]\n"
            "    torch.optim.SGD(leaves, lr=lr, momentum=momentum).step()\n"
        ),
        "velocity rebound (never stored)": (
            "def sgd_momentum_step(params, grads, velocities, lr, momentum):\n"
            "    for name in params:\n"
            "        velocity = momentum * velocities[name] + grads[name]\n"
            "        params[name].sub_(lr * velocity)\n"
        ),
        "parameter updated with the gradient, not the velocity": (
            "def sgd_momentum_step(params, grads, velocities, lr, momentum):\n"
            "    for name in params:\n"
            "        velocities[name].mul_(momentum).add_(grads[name])\n"
            "        params[name].sub_(lr * grads[name])\n"
        ),
    },
    "q8_train": {
        "velocities reset for every batch": _train_edit(
            "            logits, cache = mlp_forward(X[batch], params, activation)\n",
            "            velocities = zero_velocities(params)\n"
            "            logits, cache = mlp_forward(X[batch], params, activation)\n",
        ),
        "velocities reset every epoch": _train_edit(
            "        order = torch.randperm(X.shape[0], generator=g)\n",
            "        velocities = zero_velocities(params)\n"
            "        order = torch.randperm(X.shape[0], generator=g)\n",
        ),
        "momentum never used": _train_edit(
            "sgd_momentum_step(params, grads, velocities, lr, momentum)",
            "sgd_momentum_step(params, grads, velocities, lr, 0.0)",
        ),
        "no shuffling": _train_edit(
            "order = torch.randperm(X.shape[0], generator=g)", "order = torch.arange(X.shape[0])"
        ),
        "shuffled with the global generator": _train_edit(
            "order = torch.randperm(X.shape[0], generator=g)", "order = torch.randperm(X.shape[0])"
        ),
        "last partial batch dropped": _train_edit(
            "for start in range(0, X.shape[0], batch_size):",
            "for start in range(0, X.shape[0] - batch_size + 1, batch_size):",
        ),
        "history of the mean mini-batch loss": _train_edit(
            "        history.append(bce_forward(mlp_forward(X, params, activation)[0], y).item())\n",
            "        history.append(bce_forward(logits, y[batch]).item())\n",
        ),
        "one shuffle for all epochs": _train_edit(
            "    for _ in range(epochs):\n        order = torch.randperm(X.shape[0], generator=g)\n",
            "    order = torch.randperm(X.shape[0], generator=g)\n    for _ in range(epochs):\n",
        ),
        "rule: autograd and torch.optim in the loop": (
            "def train_mlp(X, y, hidden, epochs, lr, momentum, batch_size, activation='relu', seed=0):\n"
            "    g = torch.Generator().manual_seed(seed)\n"
            "    params = {k: v.requires_grad_(True) for k, v in init_params(X.shape[1], hidden, seed).items()}\n"
            "    optimizer = torch.optim.SGD(list(params.values()), lr=lr, momentum=momentum)\n"
            "    history = []\n"
            "    for _ in range(epochs):\n"
            "        order = torch.randperm(X.shape[0], generator=g)\n"
            "        for start in range(0, X.shape[0], batch_size):\n"
            "            batch = order[start : start + batch_size]\n"
            "            optimizer.zero_grad()\n"
            "            bce_forward(mlp_forward(X[batch], params, activation)[0], y[batch]).backward()\n"
            "            optimizer.step()\n"
            "        with torch.no_grad():\n"
            "            history.append(bce_forward(mlp_forward(X, params, activation)[0], y).item())\n"
            "    return {k: v.detach() for k, v in params.items()}, history\n"
        ),
    },
}
for _question, _entries in _MORE_MISTAKES.items():
    MISTAKES[_question].update(_entries)

# Correct answers written differently from the solution: every test must accept them.
CORRECT = {
    "q1_linear": {
        "matmul and transpose()": _LINEAR_FORWARD + "def linear_backward(dZ, X, W):\n"
        "    return torch.matmul(dZ, W.transpose(0, 1)), X.transpose(0, 1) @ dZ,"
        " dZ.sum(0)\n",
    },
    "q2_activations": {
        "where and the tanh output": "def relu_forward(Z):\n"
        "    return torch.where(Z > 0, Z, torch.zeros_like(Z))\n\n\n"
        "def relu_backward(dH, Z):\n    return torch.where(Z > 0, dH, torch.zeros_like(dH))\n\n\n"
        + _TANH_FORWARD
        + "def tanh_backward(dH, Z):\n    H = tanh_forward(Z)\n    return dH - dH * H * H\n",
    },
    "q3_sigmoid_bce": {
        "exp-form sigmoid, loss from log-sigmoids": "def sigmoid(z):\n"
        "    return torch.exp(-torch.log1p(torch.exp(-z)))\n\n\n"
        "def bce_forward(z, y):\n"
        "    tail = torch.log1p(torch.exp(-z.abs()))\n"
        "    return (-(y * ((z - z.abs()) / 2 - tail)"
        " + (1 - y) * ((-z - z.abs()) / 2 - tail))).mean()\n\n\n"
        "def bce_backward(z, y):\n    return (sigmoid(z) - y) / len(y)\n",
    },
    "q4_softmax_ce": {
        "amax and a one-hot mask": "def softmax(Z):\n"
        "    e = torch.exp(Z - Z.amax(dim=1, keepdim=True))\n"
        "    return e / e.sum(dim=1, keepdim=True)\n\n\n"
        "def cross_entropy_forward(Z, y):\n"
        "    m = Z.amax(dim=1, keepdim=True)\n"
        "    log_p = Z - m - torch.log(torch.exp(Z - m).sum(dim=1, keepdim=True))\n"
        "    one_hot = torch.zeros_like(Z)\n"
        "    one_hot[torch.arange(len(y)), y] = 1.0\n"
        "    return -(one_hot * log_p).sum() / len(y)\n\n\n"
        "def cross_entropy_backward(Z, y):\n"
        "    one_hot = torch.zeros_like(Z)\n"
        "    one_hot[torch.arange(len(y)), y] = 1.0\n"
        "    return (softmax(Z) - one_hot) / len(y)\n",
    },
    "q5_mlp_backprop": {
        "written out without the helpers' tuple order": _MLP_FORWARD
        + "def mlp_backward(y, logits, cache, params, activation='relu'):\n"
        "    dz = (sigmoid(logits) - y) / len(y)\n"
        "    dW2 = cache['H'].T @ dz[:, None]\n"
        "    db2 = dz.sum().reshape(1)\n"
        "    dH = dz[:, None] @ params['W2'].T\n"
        "    if activation == 'relu':\n"
        "        dZ1 = dH * (cache['Z1'] > 0)\n"
        "    else:\n"
        "        dZ1 = dH * (1 - torch.tanh(cache['Z1']) ** 2)\n"
        "    return {'W2': dW2, 'b2': db2, 'W1': cache['X'].T @ dZ1, 'b1': dZ1.sum(0)}\n",
    },
    "q6_gradient_check": {
        "restored by arithmetic (+eps, -2 eps, +eps)": (
            "def numerical_gradient(f, theta, eps=1e-6):\n"
            "    gradient = torch.zeros_like(theta)\n"
            "    for index in range(theta.numel()):\n"
            "        position = tuple(int(i) for i in torch.unravel_index(torch.tensor(index),"
            " theta.shape))\n"
            "        theta[position] += eps\n"
            "        upper = f().item()\n"
            "        theta[position] -= 2 * eps\n"
            "        lower = f().item()\n"
            "        theta[position] += eps\n"
            "        gradient[position] = (upper - lower) / (2 * eps)\n"
            "    return gradient\n\n\n"
            "def relative_error(a, b):\n"
            "    denominator = max((a.abs().max() + b.abs().max()).item(), 1e-12)\n"
            "    return (a - b).abs().max().item() / denominator\n"
        ),
    },
    "q7_sgd_momentum": {
        "velocity assigned in place with [...]": (
            "def sgd_momentum_step(params, grads, velocities, lr, momentum):\n"
            "    for name, value in params.items():\n"
            "        velocities[name][...] = momentum * velocities[name] + grads[name]\n"
            "        value -= lr * velocities[name]\n"
        ),
    },
    "q8_train": {
        "batches from torch.split, loop over epochs with a while": (
            "def train_mlp(X, y, hidden, epochs, lr, momentum, batch_size, activation='relu', seed=0):\n"
            "    g = torch.Generator().manual_seed(seed)\n"
            "    params = init_params(X.shape[1], hidden, seed)\n"
            "    velocities = zero_velocities(params)\n"
            "    history = []\n"
            "    while len(history) < epochs:\n"
            "        for batch in torch.split(torch.randperm(len(X), generator=g), batch_size):\n"
            "            logits, cache = mlp_forward(X[batch], params, activation)\n"
            "            sgd_momentum_step(params, mlp_backward(y[batch], logits, cache, params,"
            " activation), velocities, lr, momentum)\n"
            "        full_logits, _ = mlp_forward(X, params, activation)\n"
            "        history.append(float(bce_forward(full_logits, y)))\n"
            "    return params, history\n"
        ),
    },
}
