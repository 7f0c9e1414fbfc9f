"""Plausible wrong answers to Chapter4/hw4_rnn_lstm_by_hand.ipynb; each must fail a test.

tests/tools/test_homework.py runs every entry in place of the question's solution cell (the
blank the student receives is always tried as well) and fails unless at least one of the
question's tests, hidden ones included, rejects it.
"""

_RNN_FORWARD_HEAD = (
    "def rnn_forward(x, W_xh, W_hh, b):\n"
    "    h = torch.zeros(x.shape[0], W_hh.shape[0], dtype=x.dtype)\n"
    "    states = []\n"
    "    for t in range(x.shape[1]):\n"
)

_RNN_BACKWARD_HEAD = (
    "def rnn_backward(x, W_xh, W_hh, b, dH):\n"
    "    H = rnn_forward(x, W_xh, W_hh, b)\n"
    "    dW_xh, dW_hh, db = torch.zeros_like(W_xh), torch.zeros_like(W_hh), torch.zeros_like(b)\n"
    "    from_later = torch.zeros_like(H[:, 0])\n"
    "    for t in reversed(range(x.shape[1])):\n"
    "        h_prev = H[:, t - 1] if t > 0 else torch.zeros_like(H[:, 0])\n"
)


def _lstm_forward(cell_update: str, hidden_update: str) -> str:
    return (
        "def lstm_forward(x, W, U, b):\n"
        "    hidden = U.shape[0]\n"
        "    h = torch.zeros(x.shape[0], hidden, dtype=x.dtype)\n"
        "    c = torch.zeros_like(h)\n"
        "    states, cells = [], []\n"
        "    for t in range(x.shape[1]):\n"
        "        i, f, g, o = (x[:, t] @ W + h @ U + b).chunk(4, dim=1)\n"
        "        i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)\n"
        f"        {cell_update}\n"
        f"        {hidden_update}\n"
        "        states.append(h)\n"
        "        cells.append(c)\n"
        "    return torch.stack(states, dim=1), torch.stack(cells, dim=1)\n"
    )


def _lstm_backward(
    accumulate: str = "+=",
    dc_line: str = "dc = dh * o * (1 - tanh_c**2) + dc_later * f_later",
    forget_term: str = "dc * c_prev * f * (1 - f)",
    carry: str = "dh_later, dc_later, f_later = da @ U.T, dc, f",
) -> str:
    return (
        "def lstm_backward(x, W, U, b, dH):\n"
        "    H, C = lstm_forward(x, W, U, b)\n"
        "    zeros = torch.zeros_like(H[:, 0])\n"
        "    dW, dU, db = torch.zeros_like(W), torch.zeros_like(U), torch.zeros_like(b)\n"
        "    dh_later, dc_later, f_later = zeros, zeros, zeros\n"
        "    for t in reversed(range(x.shape[1])):\n"
        "        h_prev = H[:, t - 1] if t > 0 else zeros\n"
        "        c_prev = C[:, t - 1] if t > 0 else zeros\n"
        "        i, f, g, o = (x[:, t] @ W + h_prev @ U + b).chunk(4, dim=1)\n"
        "        i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)\n"
        "        tanh_c = torch.tanh(C[:, t])\n"
        "        dh = dH[:, t] + dh_later\n"
        f"        {dc_line}\n"
        "        da = torch.cat([dc * g * i * (1 - i), "
        f"{forget_term}, dc * i * (1 - g**2), dh * tanh_c * o * (1 - o)], dim=1)\n"
        f"        dW {accumulate} x[:, t].T @ da\n"
        f"        dU {accumulate} h_prev.T @ da\n"
        f"        db {accumulate} da.sum(dim=0)\n"
        f"        {carry}\n"
        "    return dW, dU, db\n"
    )


MISTAKES = {
    "q1_rnn_forward": {
        "no tanh": _RNN_FORWARD_HEAD
        + "        h = x[:, t] @ W_xh + h @ W_hh + b\n"
        + "        states.append(h)\n"
        + "    return torch.stack(states, dim=1)\n",
        "recurrent weight transposed": _RNN_FORWARD_HEAD
        + "        h = torch.tanh(x[:, t] @ W_xh + h @ W_hh.T + b)\n"
        + "        states.append(h)\n"
        + "    return torch.stack(states, dim=1)\n",
        "hidden state never carried over": _RNN_FORWARD_HEAD
        + "        states.append(torch.tanh(x[:, t] @ W_xh + h @ W_hh + b))\n"
        + "    return torch.stack(states, dim=1)\n",
    },
    "q2_rnn_backward": {
        "gradients not accumulated across time steps": _RNN_BACKWARD_HEAD
        + "        da = (dH[:, t] + from_later) * (1 - H[:, t] ** 2)\n"
        + "        dW_xh = x[:, t].T @ da\n"
        + "        dW_hh = h_prev.T @ da\n"
        + "        db = da.sum(dim=0)\n"
        + "        from_later = da @ W_hh.T\n"
        + "    return dW_xh, dW_hh, db\n",
        "no gradient flowing back through time": _RNN_BACKWARD_HEAD
        + "        da = dH[:, t] * (1 - H[:, t] ** 2)\n"
        + "        dW_xh += x[:, t].T @ da\n"
        + "        dW_hh += h_prev.T @ da\n"
        + "        db += da.sum(dim=0)\n"
        + "    return dW_xh, dW_hh, db\n",
        "tanh derivative left out": _RNN_BACKWARD_HEAD
        + "        da = dH[:, t] + from_later\n"
        + "        dW_xh += x[:, t].T @ da\n"
        + "        dW_hh += h_prev.T @ da\n"
        + "        db += da.sum(dim=0)\n"
        + "        from_later = da @ W_hh.T\n"
        + "    return dW_xh, dW_hh, db\n",
        "W_hh gradient uses h_t instead of h_(t-1)": _RNN_BACKWARD_HEAD
        + "        da = (dH[:, t] + from_later) * (1 - H[:, t] ** 2)\n"
        + "        dW_xh += x[:, t].T @ da\n"
        + "        dW_hh += H[:, t].T @ da\n"
        + "        db += da.sum(dim=0)\n"
        + "        from_later = da @ W_hh.T\n"
        + "    return dW_xh, dW_hh, db\n",
    },
    "q3_lstm_forward": {
        "forget gate applied to the hidden instead of the cell state": _lstm_forward(
            "c = f * h + i * g", "h = o * torch.tanh(c)"
        ),
        "missing tanh on the cell output": _lstm_forward("c = f * c + i * g", "h = o * c"),
        "forget gate applied to the candidate": _lstm_forward(
            "c = c + f * i * g", "h = o * torch.tanh(c)"
        ),
        "gates in the wrong order (f, i swapped)": (
            "def lstm_forward(x, W, U, b):\n"
            "    hidden = U.shape[0]\n"
            "    h = torch.zeros(x.shape[0], hidden, dtype=x.dtype)\n"
            "    c = torch.zeros_like(h)\n"
            "    states, cells = [], []\n"
            "    for t in range(x.shape[1]):\n"
            "        f, i, g, o = (x[:, t] @ W + h @ U + b).chunk(4, dim=1)\n"
            "        i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)\n"
            "        c = f * c + i * g\n"
            "        h = o * torch.tanh(c)\n"
            "        states.append(h)\n"
            "        cells.append(c)\n"
            "    return torch.stack(states, dim=1), torch.stack(cells, dim=1)\n"
        ),
    },
    "q4_lstm_backward": {
        "gradients not accumulated across time steps": _lstm_backward(accumulate="="),
        "cell gradient not carried through the forget gate": _lstm_backward(
            dc_line="dc = dh * o * (1 - tanh_c**2)"
        ),
        "cell gradient carried with this step's forget gate": _lstm_backward(
            dc_line="dc = dh * o * (1 - tanh_c**2) + dc_later * f"
        ),
        "forget-gate gradient uses c_t instead of c_(t-1)": _lstm_backward(
            forget_term="dc * C[:, t] * f * (1 - f)"
        ),
        "hidden gradient not carried back through U": _lstm_backward(
            carry="dh_later, dc_later, f_later = zeros, dc, f"
        ),
    },
    "q5_classifier": {
        "always predicts the majority class": (
            "def predict_beats(x):\n    return np.zeros(len(x), dtype=int)\n"
        ),
        "untrained network": (
            "seed_everything(SEED)\n"
            "untrained = helpers.ConvClassifier(3, len(class_names)).to(device)\n"
            "def predict_beats(x):\n"
            "    return helpers.predict_classes(untrained, x)\n"
        ),
        "classifies by RR intervals only": (
            "from sklearn.linear_model import LogisticRegression\n"
            "rr_only = LogisticRegression(max_iter=500, class_weight='balanced')\n"
            "rr_only.fit(train.x[:, 0, 1:], train.y)\n"
            "def predict_beats(x):\n"
            "    return rr_only.predict(np.asarray(x)[:, 0, 1:])\n"
        ),
    },
}

# Rule-breaks and further slips (issue 11): questions 1-4 run with torch.nn and autograd
# switched off; question 5 is scored on new simulated patients that the notebook never
# holds (its own test patients are deleted before the student's cell).
_AUTOGRAD_BACKWARD = (
    "    params = [p.clone().requires_grad_(True) for p in ({w}, {u}, b)]\n"
    "    out = {forward}(x, *params)\n"
    "    H = out[0] if isinstance(out, tuple) else out\n"
    "    return torch.autograd.grad((H * dH).sum(), params)\n"
)

_MORE_MISTAKES = {
    "q1_rnn_forward": {
        "rule: nn.RNN (the notebook's reference)": (
            "def rnn_forward(x, W_xh, W_hh, b):\n    return reference_rnn(x, W_xh, W_hh, b)\n"
        ),
        "states stacked time-first": _RNN_FORWARD_HEAD
        + "        h = torch.tanh(x[:, t] @ W_xh + h @ W_hh + b)\n"
        "        states.append(h)\n"
        "    return torch.stack(states)\n",
    },
    "q2_rnn_backward": {
        "rule: autograd": "def rnn_backward(x, W_xh, W_hh, b, dH):\n"
        + _AUTOGRAD_BACKWARD.format(w="W_xh", u="W_hh", forward="rnn_forward"),
        "gradient sent back through W_hh, not its transpose": _RNN_BACKWARD_HEAD
        + "        da = (dH[:, t] + from_later) * (1 - H[:, t] ** 2)\n"
        "        dW_xh += x[:, t].T @ da\n"
        "        dW_hh += h_prev.T @ da\n"
        "        db += da.sum(dim=0)\n"
        "        from_later = da @ W_hh\n"
        "    return dW_xh, dW_hh, db\n",
    },
    "q3_lstm_forward": {
        "rule: nn.LSTM (the notebook's reference)": (
            "def lstm_forward(x, W, U, b):\n    return reference_lstm(x, W, U, b)\n"
        ),
        "tanh for the output gate": _lstm_forward(
            "c = f * c + i * g", "h = torch.tanh(torch.logit(o)) * torch.tanh(c)"
        ),
    },
    "q4_lstm_backward": {
        "rule: autograd": "def lstm_backward(x, W, U, b, dH):\n"
        + _AUTOGRAD_BACKWARD.format(w="W", u="U", forward="lstm_forward"),
        "output-gate gradient without the sigmoid derivative": _lstm_backward().replace(
            "dh * tanh_c * o * (1 - o)", "dh * tanh_c"
        ),
    },
    "q5_classifier": {
        "probabilities instead of class indices": (
            "seed_everything(SEED)\n"
            "classifier = helpers.ConvClassifier(3, len(class_names)).to(device)\n"
            "run = helpers.train_beat_classifier(classifier, x_train, y_train, x_val, y_val,"
            " epochs=EPOCHS, lr=3e-3, seed=SEED, desc='cnn')\n"
            "def predict_beats(x):\n"
            "    classifier.eval()\n"
            "    with torch.no_grad():\n"
            "        return torch.softmax(classifier(x.to(device)), dim=1).cpu().numpy()\n"
        ),
        "one epoch of training": (
            "seed_everything(SEED)\n"
            "classifier = helpers.ConvClassifier(3, len(class_names)).to(device)\n"
            "run = helpers.train_beat_classifier(classifier, x_train, y_train, x_val, y_val,"
            " epochs=1, lr=1e-4, seed=SEED, desc='cnn')\n"
            "def predict_beats(x):\n"
            "    return helpers.predict_classes(classifier, x)\n"
        ),
    },
}
for _question, _entries in _MORE_MISTAKES.items():
    MISTAKES[_question].update(_entries)

# Correct answers written differently from the solution: every test must accept them.
CORRECT = {
    "q1_rnn_forward": {
        "input projection for all steps first, addmm": (
            "def rnn_forward(x, W_xh, W_hh, b):\n"
            "    projected = x @ W_xh + b\n"
            "    h = x.new_zeros(x.shape[0], W_hh.shape[1])\n"
            "    H = x.new_empty(x.shape[0], x.shape[1], W_hh.shape[1])\n"
            "    for t in range(x.shape[1]):\n"
            "        h = torch.tanh(torch.addmm(projected[:, t], h, W_hh))\n"
            "        H[:, t] = h\n"
            "    return H\n"
        ),
    },
    "q2_rnn_backward": {
        "all deltas first, then one einsum per weight": (
            "def rnn_backward(x, W_xh, W_hh, b, dH):\n"
            "    H = rnn_forward(x, W_xh, W_hh, b)\n"
            "    H_prev = torch.cat([torch.zeros_like(H[:, :1]), H[:, :-1]], dim=1)\n"
            "    deltas = torch.zeros_like(H)\n"
            "    carried = torch.zeros_like(H[:, 0])\n"
            "    for t in range(x.shape[1] - 1, -1, -1):\n"
            "        deltas[:, t] = (dH[:, t] + carried) * (1 - H[:, t] * H[:, t])\n"
            "        carried = deltas[:, t] @ W_hh.T\n"
            "    return (torch.einsum('btf,bth->fh', x, deltas),"
            " torch.einsum('btk,bth->kh', H_prev, deltas), deltas.sum(dim=(0, 1)))\n"
        ),
    },
    "q3_lstm_forward": {
        "slices instead of chunk": (
            "def lstm_forward(x, W, U, b):\n"
            "    n = U.shape[0]\n"
            "    h = x.new_zeros(x.shape[0], n)\n"
            "    c = x.new_zeros(x.shape[0], n)\n"
            "    hs, cs = [], []\n"
            "    for x_t in x.unbind(1):\n"
            "        a = x_t @ W + h @ U + b\n"
            "        i, f = torch.sigmoid(a[:, :n]), torch.sigmoid(a[:, n : 2 * n])\n"
            "        g, o = torch.tanh(a[:, 2 * n : 3 * n]), torch.sigmoid(a[:, 3 * n :])\n"
            "        c = f * c + i * g\n"
            "        h = o * torch.tanh(c)\n"
            "        hs.append(h)\n"
            "        cs.append(c)\n"
            "    return torch.stack(hs, 1), torch.stack(cs, 1)\n"
        ),
    },
    "q4_lstm_backward": {
        "gates stored in a forward pass, then walked back": (
            "def lstm_backward(x, W, U, b, dH):\n"
            "    n, steps = U.shape[0], x.shape[1]\n"
            "    h = x.new_zeros(x.shape[0], n)\n"
            "    c = x.new_zeros(x.shape[0], n)\n"
            "    saved = []\n"
            "    for t in range(steps):\n"
            "        a = x[:, t] @ W + h @ U + b\n"
            "        i, f, o = (torch.sigmoid(a[:, k * n : (k + 1) * n]) for k in (0, 1, 3))\n"
            "        g = torch.tanh(a[:, 2 * n : 3 * n])\n"
            "        c_new = f * c + i * g\n"
            "        saved.append((h, c, i, f, g, o, c_new))\n"
            "        h, c = o * torch.tanh(c_new), c_new\n"
            "    dW, dU, db = torch.zeros_like(W), torch.zeros_like(U), torch.zeros_like(b)\n"
            "    dh_next = x.new_zeros(x.shape[0], n)\n"
            "    dc_next = x.new_zeros(x.shape[0], n)\n"
            "    for t in range(steps - 1, -1, -1):\n"
            "        h_prev, c_prev, i, f, g, o, c_t = saved[t]\n"
            "        dh = dH[:, t] + dh_next\n"
            "        tc = torch.tanh(c_t)\n"
            "        dc = dc_next + dh * o * (1 - tc * tc)\n"
            "        da = torch.cat([dc * g * i * (1 - i), dc * c_prev * f * (1 - f),"
            " dc * i * (1 - g * g), dh * tc * o * (1 - o)], dim=1)\n"
            "        dW += x[:, t].T @ da\n"
            "        dU += h_prev.T @ da\n"
            "        db += da.sum(0)\n"
            "        dh_next, dc_next = da @ U.T, dc * f\n"
            "    return dW, dU, db\n"
        ),
    },
    "q5_classifier": {
        "the same network, another learning rate and seed": (
            "seed_everything(SEED + 1)\n"
            "network = helpers.ConvClassifier(3, len(class_names)).to(device)\n"
            "helpers.train_beat_classifier(network, x_train, y_train, x_val, y_val, epochs=EPOCHS,"
            " lr=2e-3, seed=SEED + 1, desc='cnn')\n"
            "def predict_beats(x):\n"
            "    return np.asarray(helpers.predict_classes(network, x), dtype=np.int64)\n"
        ),
    },
}
