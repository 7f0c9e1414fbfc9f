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
