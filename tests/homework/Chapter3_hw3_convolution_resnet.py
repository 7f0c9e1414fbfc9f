"""Plausible wrong answers to Chapter3/hw3_convolution_resnet.ipynb; each must fail a test.

tests/tools/test_homework.py runs every entry in place of the question's solution cell (the
blank the student receives is always tried as well) and fails unless at least one of the
question's tests, hidden ones included, rejects it.
"""

_CONV_HEADER = "def conv2d(x, weight, bias=None, stride=1, padding=0):\n"
_CONV_SHAPES = (
    "    n, _, height, width = x.shape\n"
    "    c_out, _, k_h, k_w = weight.shape\n"
    "    h_out = (height + 2 * padding - k_h) // stride + 1\n"
    "    w_out = (width + 2 * padding - k_w) // stride + 1\n"
)
_CONV_END = (
    "    out = weight.reshape(c_out, -1) @ columns\n"
    "    if bias is not None:\n"
    "        out = out + bias.reshape(1, -1, 1)\n"
    "    return out.reshape(n, c_out, h_out, w_out)\n"
)

_BLOCK_INIT = (
    "class BasicBlock(nn.Module):\n"
    "    def __init__(self, in_channels, out_channels, stride=1):\n"
    "        super().__init__()\n"
    "        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1,"
    " bias=False)\n"
    "        self.bn1 = nn.BatchNorm2d(out_channels)\n"
    "        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)\n"
    "        self.bn2 = nn.BatchNorm2d(out_channels)\n"
    "        if stride != 1 or in_channels != out_channels:\n"
    "            self.shortcut = nn.Sequential(\n"
    "                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),\n"
    "                nn.BatchNorm2d(out_channels),\n"
    "            )\n"
    "        else:\n"
    "            self.shortcut = nn.Identity()\n"
)

_TRAIN_LOOP = (
    "seed_everything(SEED)\n"
    "model = make_resnet()\n"
    "optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)\n"
    "for epoch in range(EPOCHS):\n"
    "    model.train()\n"
    "    order = torch.randperm(len(x_train))\n"
    "    for start in range(0, len(order), 64):\n"
    "        batch = order[start : start + 64]\n"
    "        loss = F.cross_entropy(model(x_train[batch]), y_train[batch])\n"
    "        optimizer.zero_grad()\n"
    "        loss.backward()\n"
    "        optimizer.step()\n"
    "model.eval()\n"
)

MISTAKES = {
    "q1_conv2d": {
        "flipped kernel (true convolution, not cross-correlation)": (
            _CONV_HEADER
            + _CONV_SHAPES
            + "    weight = weight.flip(-1, -2)\n"
            + "    columns = F.unfold(x, (k_h, k_w), padding=padding, stride=stride)\n"
            + _CONV_END
        ),
        "padding ignored": (
            _CONV_HEADER
            + _CONV_SHAPES
            + "    columns = F.unfold(x, (k_h, k_w), stride=stride)\n"
            + "    h_out = (height - k_h) // stride + 1\n"
            + "    w_out = (width - k_w) // stride + 1\n"
            + _CONV_END
        ),
        "padding on one side only": (
            _CONV_HEADER
            + _CONV_SHAPES
            + "    x = F.pad(x, (2 * padding, 0, 2 * padding, 0))\n"
            + "    columns = F.unfold(x, (k_h, k_w), stride=stride)\n"
            + _CONV_END
        ),
        "stride ignored": (
            _CONV_HEADER
            + "    n, _, height, width = x.shape\n"
            + "    c_out, _, k_h, k_w = weight.shape\n"
            + "    h_out = height + 2 * padding - k_h + 1\n"
            + "    w_out = width + 2 * padding - k_w + 1\n"
            + "    columns = F.unfold(x, (k_h, k_w), padding=padding)\n"
            + _CONV_END
        ),
        "bias ignored": (
            _CONV_HEADER
            + _CONV_SHAPES
            + "    columns = F.unfold(x, (k_h, k_w), padding=padding, stride=stride)\n"
            + "    out = weight.reshape(c_out, -1) @ columns\n"
            + "    return out.reshape(n, c_out, h_out, w_out)\n"
        ),
        "output reshaped with height and width swapped": (
            _CONV_HEADER
            + _CONV_SHAPES
            + "    columns = F.unfold(x, (k_h, k_w), padding=padding, stride=stride)\n"
            + "    out = weight.reshape(c_out, -1) @ columns\n"
            + "    if bias is not None:\n"
            + "        out = out + bias.reshape(1, -1, 1)\n"
            + "    return out.reshape(n, c_out, w_out, h_out).transpose(-1, -2)\n"
        ),
    },
    "q2_basic_block": {
        "missing skip connection": (
            _BLOCK_INIT + "\n"
            "    def forward(self, x):\n"
            "        return F.relu(self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x))))))\n"
        ),
        "ReLU before the addition": (
            _BLOCK_INIT + "\n"
            "    def forward(self, x):\n"
            "        residual = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))\n"
            "        return F.relu(residual) + self.shortcut(x)\n"
        ),
        "no ReLU between the two convolutions": (
            _BLOCK_INIT + "\n"
            "    def forward(self, x):\n"
            "        residual = self.bn2(self.conv2(self.bn1(self.conv1(x))))\n"
            "        return F.relu(residual + self.shortcut(x))\n"
        ),
        "stride in the second convolution": (
            "class BasicBlock(nn.Module):\n"
            "    def __init__(self, in_channels, out_channels, stride=1):\n"
            "        super().__init__()\n"
            "        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False)\n"
            "        self.bn1 = nn.BatchNorm2d(out_channels)\n"
            "        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, stride=stride,"
            " padding=1, bias=False)\n"
            "        self.bn2 = nn.BatchNorm2d(out_channels)\n"
            "        if stride != 1 or in_channels != out_channels:\n"
            "            self.shortcut = nn.Sequential(\n"
            "                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),\n"
            "                nn.BatchNorm2d(out_channels),\n"
            "            )\n"
            "        else:\n"
            "            self.shortcut = nn.Identity()\n"
            "\n"
            "    def forward(self, x):\n"
            "        residual = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))\n"
            "        return F.relu(residual + self.shortcut(x))\n"
        ),
        "projection shortcut without batch norm": (
            "class BasicBlock(nn.Module):\n"
            "    def __init__(self, in_channels, out_channels, stride=1):\n"
            "        super().__init__()\n"
            "        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1,"
            " bias=False)\n"
            "        self.bn1 = nn.BatchNorm2d(out_channels)\n"
            "        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)\n"
            "        self.bn2 = nn.BatchNorm2d(out_channels)\n"
            "        if stride != 1 or in_channels != out_channels:\n"
            "            self.shortcut = nn.Sequential(\n"
            "                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False)\n"
            "            )\n"
            "        else:\n"
            "            self.shortcut = nn.Identity()\n"
            "\n"
            "    def forward(self, x):\n"
            "        residual = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))\n"
            "        return F.relu(residual + self.shortcut(x))\n"
        ),
    },
    "q3_train": {
        "untrained model": (
            "seed_everything(SEED)\n"
            "model = make_resnet()\n"
            "model.eval()\n"
            "with torch.no_grad():\n"
            "    p = torch.softmax(model(x_test), dim=1)[:, 1]\n"
            "test_auc = float(roc_auc_score(y_test.numpy(), p.numpy()))\n"
        ),
        "AUC measured on the training slices": (
            _TRAIN_LOOP + "with torch.no_grad():\n"
            "    p = torch.softmax(model(x_train), dim=1)[:, 1]\n"
            "test_auc = float(roc_auc_score(y_train.numpy(), p.numpy()))\n"
        ),
        "probability of class 0 (classes swapped)": (
            _TRAIN_LOOP + "with torch.no_grad():\n"
            "    p = torch.softmax(model(x_test), dim=1)[:, 0]\n"
            "test_auc = float(roc_auc_score(y_test.numpy(), p.numpy()))\n"
        ),
    },
}

# Rule-breaks and further slips (issue 11). conv2d runs with every library convolution
# switched off and is compared with F.conv2d on kernels that are not square; the
# shortcut's structure is checked (one 1x1 convolution with the stride and no bias, one
# batch norm); the trained model is scored on new subjects the notebook never holds.
_BLOCK_FORWARD = (
    "\n"
    "    def forward(self, x):\n"
    "        residual = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))\n"
    "        return F.relu(residual + self.shortcut(x))\n"
)


def _block_with_shortcut(shortcut: str) -> str:
    return (
        _BLOCK_INIT.replace(
            "            self.shortcut = nn.Sequential(\n"
            "                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),\n"
            "                nn.BatchNorm2d(out_channels),\n"
            "            )\n",
            shortcut,
        )
        + _BLOCK_FORWARD
    )


_VAL_AUC = (
    "with torch.no_grad():\n"
    "    p = torch.softmax(model(x_val), dim=1)[:, 1]\n"
    "val_auc = float(roc_auc_score(y_val.numpy(), p.numpy()))\n"
)

_MORE_MISTAKES = {
    "q1_conv2d": {
        "rule: F.conv2d": (
            _CONV_HEADER + "    return F.conv2d(x, weight, bias, stride=stride, padding=padding)\n"
        ),
        "rule: torch.conv2d": (
            _CONV_HEADER
            + "    return torch.conv2d(x, weight, bias, stride=stride, padding=padding)\n"
        ),
        "rule: an nn.Conv2d with the given weights": (
            _CONV_HEADER
            + "    layer = nn.Conv2d(weight.shape[1], weight.shape[0], weight.shape[2:],"
            " stride=stride, padding=padding, bias=bias is not None).to(x.dtype)\n"
            + "    with torch.no_grad():\n"
            + "        layer.weight.copy_(weight)\n"
            + "        if bias is not None:\n"
            + "            layer.bias.copy_(bias)\n"
            + "    return layer(x)\n"
        ),
        "output width from the kernel height (square kernels only)": (
            _CONV_HEADER
            + "    n, _, height, width = x.shape\n"
            + "    c_out, _, k, _ = weight.shape\n"
            + "    h_out = (height + 2 * padding - k) // stride + 1\n"
            + "    w_out = (width + 2 * padding - k) // stride + 1\n"
            + "    k_h = k_w = k\n"
            + "    columns = F.unfold(x, (k_h, k_w), padding=padding, stride=stride)\n"
            + _CONV_END
        ),
        "kernel flattened in the wrong order (channels last)": (
            _CONV_HEADER
            + _CONV_SHAPES
            + "    columns = F.unfold(x, (k_h, k_w), padding=padding, stride=stride)\n"
            + "    out = weight.permute(0, 2, 3, 1).reshape(c_out, -1) @ columns\n"
            + "    if bias is not None:\n"
            + "        out = out + bias.reshape(1, -1, 1)\n"
            + "    return out.reshape(n, c_out, h_out, w_out)\n"
        ),
    },
    "q2_basic_block": {
        "3x3 projection shortcut with padding 1": _block_with_shortcut(
            "            self.shortcut = nn.Sequential(\n"
            "                nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1,"
            " bias=False),\n"
            "                nn.BatchNorm2d(out_channels),\n"
            "            )\n"
        ),
        "projection convolution with a bias": _block_with_shortcut(
            "            self.shortcut = nn.Sequential(\n"
            "                nn.Conv2d(in_channels, out_channels, 1, stride=stride),\n"
            "                nn.BatchNorm2d(out_channels),\n"
            "            )\n"
        ),
        "ReLU inside the shortcut": _block_with_shortcut(
            "            self.shortcut = nn.Sequential(\n"
            "                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),\n"
            "                nn.BatchNorm2d(out_channels),\n"
            "                nn.ReLU(),\n"
            "            )\n"
        ),
        "projection without the stride (then pooled)": _block_with_shortcut(
            "            self.shortcut = nn.Sequential(\n"
            "                nn.Conv2d(in_channels, out_channels, 1, bias=False),\n"
            "                nn.BatchNorm2d(out_channels),\n"
            "                nn.AvgPool2d(stride) if stride > 1 else nn.Identity(),\n"
            "            )\n"
        ),
        "projection only when the channels change (not for stride 2)": (
            _BLOCK_INIT.replace(
                "if stride != 1 or in_channels != out_channels:",
                "if in_channels != out_channels:",
            )
            + _BLOCK_FORWARD.replace(
                "self.shortcut(x)",
                "(self.shortcut(x) if self.shortcut(x).shape == residual.shape"
                " else self.shortcut(x)[..., ::2, ::2])",
            )
        ),
    },
    "q3_train": {
        "untrained model": (
            "seed_everything(SEED)\nmodel = make_resnet()\nmodel.eval()\n" + _VAL_AUC
        ),
        "model left in training mode": (
            _TRAIN_LOOP.replace("model.eval()\n", "")
            + _VAL_AUC.replace("with torch.no_grad():\n", "model.eval()\nwith torch.no_grad():\n")
            + "model.train()\n"
        ),
        "probability of class 0 (classes swapped)": (
            _TRAIN_LOOP + _VAL_AUC.replace("[:, 1]", "[:, 0]")
        ),
        "AUC reported on the training slices": (
            _TRAIN_LOOP
            + "with torch.no_grad():\n"
            + "    p = torch.softmax(model(x_train), dim=1)[:, 1]\n"
            + "val_auc = float(roc_auc_score(y_train.numpy(), p.numpy()))\n"
        ),
        "one batch of training (loop breaks early)": (
            _TRAIN_LOOP.replace(
                "        optimizer.step()\n", "        optimizer.step()\n        break\n"
            )
            + _VAL_AUC
        ),
    },
}
MISTAKES["q3_train"] = {}  # the old entries scored x_test, which the notebook no longer holds
for _question, _entries in _MORE_MISTAKES.items():
    MISTAKES[_question].update(_entries)

# Correct answers written differently from the solution: every test must accept them.
CORRECT = {
    "q1_conv2d": {
        "F.pad first, shapes from the unfolded columns": (
            _CONV_HEADER
            + "    c_out, c_in, k_h, k_w = weight.shape\n"
            + "    padded = F.pad(x, (padding, padding, padding, padding))\n"
            + "    h_out = (padded.shape[2] - k_h) // stride + 1\n"
            + "    w_out = (padded.shape[3] - k_w) // stride + 1\n"
            + "    patches = F.unfold(padded, kernel_size=(k_h, k_w), stride=stride)\n"
            + "    out = torch.einsum('ok,nkl->nol', weight.flatten(1), patches)\n"
            + "    out = out.view(x.shape[0], c_out, h_out, w_out)\n"
            + "    return out if bias is None else out + bias[None, :, None, None]\n"
        ),
    },
    "q2_basic_block": {
        "shortcut built first, Identity via nn.Sequential()": (
            "class BasicBlock(nn.Module):\n"
            "    def __init__(self, in_channels, out_channels, stride=1):\n"
            "        super().__init__()\n"
            "        project = stride != 1 or in_channels != out_channels\n"
            "        self.shortcut = nn.Sequential(\n"
            "            nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=stride,"
            " bias=False),\n"
            "            nn.BatchNorm2d(out_channels),\n"
            "        ) if project else nn.Identity()\n"
            "        self.conv1 = nn.Conv2d(in_channels, out_channels, kernel_size=3,"
            " stride=stride, padding=1, bias=False)\n"
            "        self.bn1 = nn.BatchNorm2d(out_channels)\n"
            "        self.conv2 = nn.Conv2d(out_channels, out_channels, kernel_size=3, stride=1,"
            " padding=1, bias=False)\n"
            "        self.bn2 = nn.BatchNorm2d(out_channels)\n"
            "\n"
            "    def forward(self, x):\n"
            "        out = torch.relu(self.bn1(self.conv1(x)))\n"
            "        out = self.bn2(self.conv2(out))\n"
            "        return torch.relu(out + self.shortcut(x))\n"
        ),
    },
    "q3_train": {
        "flip by indexing, AdamW": (
            "seed_everything(SEED)\n"
            "model = make_resnet()\n"
            "optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4)\n"
            "for epoch in range(EPOCHS):\n"
            "    model.train()\n"
            "    for batch in torch.randperm(len(x_train)).split(64):\n"
            "        images = x_train[batch].clone()\n"
            "        flip = torch.rand(len(batch)) < 0.5\n"
            "        images[flip] = images[flip].flip(3)\n"
            "        optimizer.zero_grad()\n"
            "        F.cross_entropy(model(images), y_train[batch]).backward()\n"
            "        optimizer.step()\n"
            "model.eval()\n"
            "with torch.no_grad():\n"
            "    scores = model(x_val).softmax(dim=1)[:, 1]\n"
            "val_auc = float(roc_auc_score(y_val.numpy(), scores.numpy()))\n"
        ),
    },
}
