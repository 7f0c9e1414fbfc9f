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
