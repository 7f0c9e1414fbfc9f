"""Plausible wrong answers to Chapter10/hw10_segmentation_registration.ipynb; each must fail a test.

tests/tools/test_homework.py runs every entry in place of the question's solution cells (the
blank the student receives is always tried as well) and fails unless at least one of the
question's tests, hidden ones included, rejects it. CORRECT holds right answers written
differently, which every test must accept.
"""

from bios740.tools.homework import swap as _swap

# ------------------------------------------------------------ question 1: soft Dice

_LOSS = (
    "def soft_dice_loss(probabilities, targets, eps=1.0, batch=False):\n"
    "    dims = (0, 2, 3) if batch else (2, 3)\n"
    "    overlap = (probabilities * targets).sum(dim=dims)\n"
    "    total = probabilities.sum(dim=dims) + targets.sum(dim=dims)\n"
    "    return 1.0 - ((2.0 * overlap + eps) / (total + eps)).mean()\n"
    "\n\n"
)
_GRADIENT = (
    "def soft_dice_gradient(probabilities, targets, eps=1.0, batch=False):\n"
    "    dims = (0, 2, 3) if batch else (2, 3)\n"
    "    overlap = (probabilities * targets).sum(dim=dims, keepdim=True)\n"
    "    total = probabilities.sum(dim=dims, keepdim=True) + targets.sum(dim=dims, keepdim=True)\n"
    "    n_terms = overlap.numel()\n"
    "    d_dice = (2.0 * targets * (total + eps) - (2.0 * overlap + eps)) / (total + eps) ** 2\n"
    "    return -d_dice / n_terms\n"
)
_Q1 = _LOSS + _GRADIENT


def _q1(*pairs: str) -> str:
    return _swap(_Q1, *pairs)


_DIMS = "dims = (0, 2, 3) if batch else (2, 3)"

# ------------------------------------------------------------ question 2: Jacobian

_DETERMINANT = (
    "def jacobian_determinant(displacement):\n"
    "    u = torch.as_tensor(displacement)\n"
    "    single = u.ndim == 3\n"
    "    u = u[None] if single else u\n"
    "    dux_dy, dux_dx = torch.gradient(u[:, 0], dim=(1, 2))\n"
    "    duy_dy, duy_dx = torch.gradient(u[:, 1], dim=(1, 2))\n"
    "    determinant = (1 + dux_dx) * (1 + duy_dy) - dux_dy * duy_dx\n"
    "    return determinant[0] if single else determinant\n"
    "\n\n"
)
_FOLDING = (
    "def folding_fraction(displacement):\n"
    "    folded = jacobian_determinant(displacement) <= 0\n"
    "    return folded.to(torch.float64).mean(dim=(-2, -1))\n"
)
_Q2 = _DETERMINANT + _FOLDING


def _q2(*pairs: str) -> str:
    return _swap(_Q2, *pairs)


_GRADIENTS = (
    "    dux_dy, dux_dx = torch.gradient(u[:, 0], dim=(1, 2))\n"
    "    duy_dy, duy_dx = torch.gradient(u[:, 1], dim=(1, 2))\n"
)


def _q2_derivative(helper: str) -> str:
    """The solution with the derivatives taken by ``helper`` (code defining ``diff(f, dim)``)."""
    return (
        helper
        + "\n\n"
        + _q2(
            _GRADIENTS,
            "    dux_dy, dux_dx = diff(u[:, 0], 1), diff(u[:, 0], 2)\n"
            "    duy_dy, duy_dx = diff(u[:, 1], 1), diff(u[:, 1], 2)\n",
        )
    )


# ------------------------------------------------------------ question 3: warping

_WARP = (
    "def warp(image, displacement, mode='bilinear'):\n"
    "    _, _, height, width = image.shape\n"
    "    u = displacement.to(image.dtype)\n"
    "    y = torch.arange(height, dtype=image.dtype, device=image.device)[:, None] + u[:, 1]\n"
    "    x = torch.arange(width, dtype=image.dtype, device=image.device)[None, :] + u[:, 0]\n"
    "    grid = torch.stack([2 * x / (width - 1) - 1, 2 * y / (height - 1) - 1], dim=-1)\n"
    "    return F.grid_sample(image, grid, mode=mode, padding_mode='zeros', align_corners=True)\n"
    "\n\n"
)
_LABELS = (
    "def warp_labels(labels, displacement):\n"
    "    as_image = labels[:, None].to(displacement.dtype)\n"
    "    return warp(as_image, displacement, mode='nearest')[:, 0].round().to(torch.int64)\n"
)
_Q3 = _WARP + _LABELS


def _q3(*pairs: str) -> str:
    return _swap(_Q3, *pairs)


_GRID = "    grid = torch.stack([2 * x / (width - 1) - 1, 2 * y / (height - 1) - 1], dim=-1)\n"

# ------------------------------------------------------------ question 4: the segmenter

_INPUTS = (
    "def network_inputs(t1, brain):\n"
    "    t1, brain = torch.as_tensor(t1).float().cpu(), torch.as_tensor(brain).bool().cpu()\n"
    "    medians = torch.stack([image[0][mask].median() for image, mask in zip(t1, brain, strict=True)])\n"
    "    return torch.cat([t1 / medians[:, None, None, None], brain[:, None].float()], dim=1)\n"
    "\n\n"
)
_TRAIN = (
    "def train_segmenter(part, seed=SEED):\n"
    "    t1, brain, tissue = tissue_tensors(part)\n"
    "    inputs, targets = network_inputs(t1, brain).to(device), tissue.to(device)\n"
    "    torch.manual_seed(seed)\n"
    "    model = UNet(2, 4, base_channels=8, depth=2).to(device)\n"
    "    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)\n"
    "    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=1e-2, total_steps=STEPS)\n"
    "    generator = torch.Generator().manual_seed(seed)\n"
    "    for _ in tqdm(range(STEPS), desc='training'):\n"
    "        rows = torch.randint(0, len(inputs), (32,), generator=generator).to(device)\n"
    "        top, left = torch.randint(0, 33, (2,), generator=generator).tolist()\n"
    "        crop = inputs[rows, :, top : top + 32, left : left + 32]\n"
    "        truth = targets[rows, top : top + 32, left : left + 32]\n"
    "        logits = model(crop)\n"
    "        one_hot = F.one_hot(truth, 4).permute(0, 3, 1, 2).float()\n"
    "        loss = F.cross_entropy(logits, truth) + soft_dice_loss(logits.softmax(dim=1), one_hot)\n"
    "        optimizer.zero_grad()\n"
    "        loss.backward()\n"
    "        optimizer.step()\n"
    "        schedule.step()\n"
    "    return model.eval()\n"
    "\n\n"
)
_SEGMENT = (
    "def segment(t1, brain):\n"
    "    brain = torch.as_tensor(brain).bool().cpu()\n"
    "    with torch.no_grad():\n"
    "        labels = segmenter(network_inputs(t1, brain).to(device)).argmax(dim=1).cpu()\n"
    "    return torch.where(brain, labels, 0)\n"
    "\n\n"
)
_TRAINED = "segmenter = train_segmenter(train)\n"
_Q4 = _INPUTS + _TRAIN + _SEGMENT + _TRAINED


MISTAKES = {
    "q1_soft_dice": {
        "Dice pooled over the batch when per image is asked": _q1(_DIMS, "dims = (0, 2, 3)"),
        "per image when batch=True asks for pooling": _q1(_DIMS, "dims = (2, 3)"),
        "no epsilon (an empty class gives 0 / 0)": _q1(
            "((2.0 * overlap + eps) / (total + eps))",
            "((2.0 * overlap) / total)",
            "(2.0 * targets * (total + eps) - (2.0 * overlap + eps)) / (total + eps) ** 2",
            "(2.0 * targets * total - 2.0 * overlap) / total**2",
        ),
        "epsilon in the denominator only": _q1(
            "((2.0 * overlap + eps) / (total + eps))",
            "((2.0 * overlap) / (total + eps))",
            "(2.0 * targets * (total + eps) - (2.0 * overlap + eps)) / (total + eps) ** 2",
            "(2.0 * targets * (total + eps) - 2.0 * overlap) / (total + eps) ** 2",
        ),
        "V-Net's squares in the denominator (the text asks plain sums)": _q1(
            "    total = probabilities.sum(dim=dims) + targets.sum(dim=dims)\n",
            "    total = (probabilities**2).sum(dim=dims) + (targets**2).sum(dim=dims)\n",
            "    total = probabilities.sum(dim=dims, keepdim=True) + targets.sum(dim=dims, keepdim=True)\n",
            "    total = (probabilities**2).sum(dim=dims, keepdim=True) + targets.sum(dim=dims, keepdim=True)\n",
            "(2.0 * targets * (total + eps) - (2.0 * overlap + eps))",
            "(2.0 * targets * (total + eps) - (2.0 * overlap + eps) * 2.0 * probabilities)",
        ),
        "background class left out of the mean": _q1(
            "    return 1.0 - ((2.0 * overlap + eps) / (total + eps)).mean()\n",
            "    return 1.0 - ((2.0 * overlap + eps) / (total + eps))[..., 1:].mean()\n",
        ),
        "1 - D summed over the classes, not averaged": _q1(
            "    return 1.0 - ((2.0 * overlap + eps) / (total + eps)).mean()\n",
            "    dice = (2.0 * overlap + eps) / (total + eps)\n"
            "    return (1.0 - dice).sum(dim=-1).mean()\n",
        ),
        "loss returned per image and class, not averaged": _q1(
            "    return 1.0 - ((2.0 * overlap + eps) / (total + eps)).mean()\n",
            "    return 1.0 - (2.0 * overlap + eps) / (total + eps)\n",
        ),
        "loss returned as a Python float (no graph for training)": _q1(
            "    return 1.0 - ((2.0 * overlap + eps) / (total + eps)).mean()\n",
            "    return float(1.0 - ((2.0 * overlap + eps) / (total + eps)).mean())\n",
        ),
        "gradient of the Dice coefficient, not of the loss (sign)": _q1(
            "    return -d_dice / n_terms\n", "    return d_dice / n_terms\n"
        ),
        "gradient without the 1 / (N C) of the mean": _q1(
            "    return -d_dice / n_terms\n", "    return -d_dice\n"
        ),
        "gradient of the numerator only (quotient rule forgotten)": _q1(
            "    d_dice = (2.0 * targets * (total + eps) - (2.0 * overlap + eps)) / (total + eps) ** 2\n",
            "    d_dice = 2.0 * targets / (total + eps)\n",
        ),
        "gradient divided by N C also when the batch is pooled": _q1(
            "    n_terms = overlap.numel()\n",
            "    n_terms = probabilities.shape[0] * probabilities.shape[1]\n",
        ),
        "rule: the gradient by torch.autograd.grad": (
            _LOSS + "def soft_dice_gradient(probabilities, targets, eps=1.0, batch=False):\n"
            "    leaf = probabilities.detach().clone().requires_grad_(True)\n"
            "    with torch.enable_grad():\n"
            "        loss = soft_dice_loss(leaf, targets, eps, batch)\n"
            "        return torch.autograd.grad(loss, leaf)[0]\n"
        ),
        "rule: the gradient by torch.func.grad": (
            _LOSS + "def soft_dice_gradient(probabilities, targets, eps=1.0, batch=False):\n"
            "    return torch.func.grad(lambda p: soft_dice_loss(p, targets, eps, batch))(probabilities)\n"
        ),
    },
    "q2_jacobian": {
        "det of grad u instead of I + grad u": _q2(
            "    determinant = (1 + dux_dx) * (1 + duy_dy) - dux_dy * duy_dx\n",
            "    determinant = dux_dx * duy_dy - dux_dy * duy_dx\n",
        ),
        "x and y channels swapped (channel 0 read as u_y)": _q2(
            "torch.gradient(u[:, 0], dim=(1, 2))\n    duy_dy, duy_dx = torch.gradient(u[:, 1],",
            "torch.gradient(u[:, 1], dim=(1, 2))\n    duy_dy, duy_dx = torch.gradient(u[:, 0],",
        ),
        "derivatives along the wrong axes (d/dx along the rows)": _q2(
            _GRADIENTS,
            "    dux_dx, dux_dy = torch.gradient(u[:, 0], dim=(1, 2))\n"
            "    duy_dx, duy_dy = torch.gradient(u[:, 1], dim=(1, 2))\n",
        ),
        "forward differences instead of central": _q2_derivative(
            "def diff(f, dim):\n"
            "    d = torch.diff(f, dim=dim)\n"
            "    return torch.cat([d, d.narrow(dim, -1, 1)], dim=dim)"
        ),
        "central differences that wrap around the border (torch.roll)": _q2_derivative(
            "def diff(f, dim):\n"
            "    return (torch.roll(f, -1, dims=dim) - torch.roll(f, 1, dims=dim)) / 2"
        ),
        "central differences not halved": _q2(
            _GRADIENTS,
            "    dux_dy, dux_dx = (2 * g for g in torch.gradient(u[:, 0], dim=(1, 2)))\n"
            "    duy_dy, duy_dx = (2 * g for g in torch.gradient(u[:, 1], dim=(1, 2)))\n",
        ),
        "+ instead of - before the cross term": _q2(
            "(1 + duy_dy) - dux_dy * duy_dx", "(1 + duy_dy) + dux_dy * duy_dx"
        ),
        "the diagonal only (cross term left out)": _q2(
            "(1 + duy_dy) - dux_dy * duy_dx", "(1 + duy_dy)"
        ),
        "folding where det < 0 only (det = 0 is a fold too)": _q2(
            "jacobian_determinant(displacement) <= 0", "jacobian_determinant(displacement) < 0"
        ),
        "folding fraction pooled over the batch": _q2(
            "    return folded.to(torch.float64).mean(dim=(-2, -1))\n",
            "    return folded.to(torch.float64).mean()\n",
        ),
        "folding counted in pixels, not as a share": _q2(
            "    return folded.to(torch.float64).mean(dim=(-2, -1))\n",
            "    return folded.to(torch.float64).sum(dim=(-2, -1))\n",
        ),
    },
    "q3_warp": {
        "(x, y) swapped in the sampling grid": _q3(
            _GRID,
            "    grid = torch.stack([2 * y / (height - 1) - 1, 2 * x / (width - 1) - 1], dim=-1)\n",
        ),
        "pixel coordinates passed where normalised ones are needed": _q3(
            _GRID, "    grid = torch.stack([x, y], dim=-1)\n"
        ),
        "align_corners=False in grid_sample with the align_corners=True grid": _q3(
            "align_corners=True)", "align_corners=False)"
        ),
        "grid normalised by W and H (the align_corners=False scale) with align_corners=True": _q3(
            _GRID, "    grid = torch.stack([2 * x / width - 1, 2 * y / height - 1], dim=-1)\n"
        ),
        "x normalised by the height and y by the width": _q3(
            _GRID,
            "    grid = torch.stack([2 * x / (height - 1) - 1, 2 * y / (width - 1) - 1], dim=-1)\n",
        ),
        "displacement channels swapped (u_y added to x)": _q3(
            "[:, None] + u[:, 1]\n",
            "[:, None] + u[:, 0]\n",
            "[None, :] + u[:, 0]\n",
            "[None, :] + u[:, 1]\n",
        ),
        "displacement subtracted (pushing instead of pulling)": _q3(
            "[:, None] + u[:, 1]\n",
            "[:, None] - u[:, 1]\n",
            "[None, :] + u[:, 0]\n",
            "[None, :] - u[:, 0]\n",
        ),
        "the border value outside the image instead of 0": _q3(
            "padding_mode='zeros'", "padding_mode='border'"
        ),
        "labels warped with bilinear interpolation and rounded": _q3(
            "mode='nearest')[:, 0].round()", "mode='bilinear')[:, 0].round()"
        ),
        "labels warped with bilinear interpolation and truncated": _q3(
            "mode='nearest')[:, 0].round()", "mode='bilinear')[:, 0]"
        ),
        "labels as one-hot maps warped bilinearly, then argmax": (
            _WARP + "def warp_labels(labels, displacement):\n"
            "    n_labels = int(labels.max()) + 1\n"
            "    one_hot = F.one_hot(labels, n_labels).permute(0, 3, 1, 2).to(displacement.dtype)\n"
            "    return warp(one_hot, displacement).argmax(dim=1)\n"
        ),
        "rule: scipy's map_coordinates instead of grid_sample": (
            "def warp(image, displacement, mode='bilinear'):\n"
            "    order = 1 if mode == 'bilinear' else 0\n"
            "    h, w = image.shape[-2:]\n"
            "    rows, cols = np.meshgrid(np.arange(h, dtype=float), np.arange(w, dtype=float), indexing='ij')\n"
            "    u = displacement.detach().cpu().double().numpy()\n"
            "    out = np.zeros(tuple(image.shape))\n"
            "    for n in range(image.shape[0]):\n"
            "        where = [rows + u[n, 1], cols + u[n, 0]]\n"
            "        for c in range(image.shape[1]):\n"
            "            out[n, c] = ndimage.map_coordinates(image[n, c].detach().cpu().double().numpy(), where, order=order, mode='grid-constant')\n"
            "    return torch.from_numpy(out).to(image.dtype)\n"
            "\n\n" + _LABELS
        ),
    },
    "q4_segmenter": {
        "an untrained network": (
            _INPUTS + "def train_segmenter(part, seed=SEED):\n"
            "    torch.manual_seed(seed)\n"
            "    return UNet(2, 4, base_channels=8, depth=2).to(device).eval()\n"
            "\n\n" + _SEGMENT + _TRAINED
        ),
        "intensity thresholds between the training tissues' mean T1": (
            _INPUTS + "def train_segmenter(part, seed=SEED):\n"
            "    t1, brain, tissue = tissue_tensors(part)\n"
            "    normalised = network_inputs(t1, brain)[:, 0]\n"
            "    return torch.stack([normalised[tissue == k].mean() for k in (1, 2, 3)])\n"
            "\n\n"
            "def segment(t1, brain):\n"
            "    brain = torch.as_tensor(brain).bool().cpu()\n"
            "    normalised = network_inputs(t1, brain)[:, 0]\n"
            "    nearest = (normalised[..., None] - segmenter).abs().argmin(dim=-1) + 1\n"
            "    return torch.where(brain, nearest, 0)\n"
            "\n\n" + _TRAINED
        ),
        "the Gaussian mixture fitted to all slices at once": (
            "def train_segmenter(part, seed=SEED):\n"
            "    return None\n"
            "\n\n"
            "def segment(t1, brain):\n"
            "    t1, brain = np.asarray(torch.as_tensor(t1).cpu()), np.asarray(torch.as_tensor(brain).cpu())\n"
            "    labels = helpers.gmm_tissue_segmentation(t1[:, 0], brain, np.zeros(len(t1)))\n"
            "    return torch.from_numpy(labels.astype(np.int64))\n"
            "\n\n" + _TRAINED
        ),
        "training stopped after 20 steps": (
            _INPUTS
            + _swap(
                _swap(_TRAIN, "total_steps=STEPS", "total_steps=20"), "range(STEPS)", "range(20)"
            )
            + _SEGMENT
            + _TRAINED
        ),
    },
}

CORRECT = {
    "q1_soft_dice": {
        "einsum sums, the gradient expanded per term": (
            "def soft_dice_loss(probabilities, targets, eps=1.0, batch=False):\n"
            "    p, g = probabilities, targets\n"
            "    if batch:  # one big image per class\n"
            "        p, g = p.transpose(0, 1).flatten(1)[None], g.transpose(0, 1).flatten(1)[None]\n"
            "    else:\n"
            "        p, g = p.flatten(2), g.flatten(2)\n"
            "    intersection = torch.einsum('ncp,ncp->nc', p, g)\n"
            "    dice = (2 * intersection + eps) / (p.sum(-1) + g.sum(-1) + eps)\n"
            "    return 1 - dice.sum() / dice.numel()\n"
            "\n\n"
            "def soft_dice_gradient(probabilities, targets, eps=1.0, batch=False):\n"
            "    n, c = probabilities.shape[:2]\n"
            "    sums = (lambda t: t.sum(dim=(0, 2, 3), keepdim=True)) if batch else (lambda t: t.sum(dim=(2, 3), keepdim=True))\n"
            "    numerator = 2 * sums(probabilities * targets) + eps\n"
            "    denominator = sums(probabilities) + sums(targets) + eps\n"
            "    terms = c if batch else n * c\n"
            "    return (numerator / denominator**2 - 2 * targets / denominator) / terms\n"
        ),
    },
    "q2_jacobian": {
        "np.gradient and torch.linalg.det of the 2 x 2 matrices": (
            "def jacobian_determinant(displacement):\n"
            "    u = np.asarray(displacement, dtype=np.float64)\n"
            "    batched = u.ndim == 4\n"
            "    if not batched:\n"
            "        u = u[None]\n"
            "    d_dy, d_dx = np.gradient(u, axis=(2, 3))  # (N, 2, H, W) each\n"
            "    jacobian = np.stack([d_dx, d_dy], axis=-1)  # [..., component, direction]\n"
            "    jacobian = np.moveaxis(jacobian, 1, -2) + np.eye(2)\n"
            "    det = torch.linalg.det(torch.from_numpy(jacobian))\n"
            "    return det if batched else det[0]\n"
            "\n\n"
            "def folding_fraction(displacement):\n"
            "    det = jacobian_determinant(displacement)\n"
            "    return (det <= 0).double().flatten(-2).mean(-1)\n"
        ),
        "slices by hand, the Jacobian transposed (same determinant)": (
            "def derivative(f, axis):\n"
            "    f = f.movedim(axis, -1)\n"
            "    d = torch.empty_like(f)\n"
            "    d[..., 1:-1] = (f[..., 2:] - f[..., :-2]) / 2\n"
            "    d[..., 0] = f[..., 1] - f[..., 0]\n"
            "    d[..., -1] = f[..., -1] - f[..., -2]\n"
            "    return d.movedim(-1, axis)\n"
            "\n\n"
            "def jacobian_determinant(displacement):\n"
            "    ux, uy = displacement[..., 0, :, :], displacement[..., 1, :, :]\n"
            "    a = 1 + derivative(ux, -1)\n"
            "    b = derivative(uy, -1)  # transposed: d u_y / dx above the diagonal\n"
            "    c = derivative(ux, -2)\n"
            "    d = 1 + derivative(uy, -2)\n"
            "    return a * d - b * c\n"
            "\n\n"
            "def folding_fraction(displacement):\n"
            "    det = jacobian_determinant(displacement)\n"
            "    return (det <= 0).double().sum(dim=(-2, -1)) / (det.shape[-1] * det.shape[-2])\n"
        ),
    },
    "q3_warp": {
        "identity grid from affine_grid plus the scaled displacement": (
            "def warp(image, displacement, mode='bilinear'):\n"
            "    n, c, h, w = image.shape\n"
            "    identity = torch.eye(2, 3, dtype=image.dtype, device=image.device).expand(n, 2, 3)\n"
            "    grid = F.affine_grid(identity, [n, c, h, w], align_corners=True)\n"
            "    scale = torch.tensor([2 / (w - 1), 2 / (h - 1)], dtype=image.dtype, device=image.device)\n"
            "    grid = grid + displacement.to(image.dtype).permute(0, 2, 3, 1) * scale\n"
            "    return F.grid_sample(image, grid, mode=mode, padding_mode='zeros', align_corners=True)\n"
            "\n\n"
            "def warp_labels(labels, displacement):\n"
            "    warped = warp(labels.unsqueeze(1).double(), displacement.double(), mode='nearest')\n"
            "    return warped.squeeze(1).long()\n"
        ),
        "meshgrid and align_corners=False with its own (consistent) formula": (
            "def warp(image, displacement, mode='bilinear'):\n"
            "    h, w = image.shape[-2:]\n"
            "    ys, xs = torch.meshgrid(torch.arange(h), torch.arange(w), indexing='ij')\n"
            "    x = xs.to(image) + displacement[:, 0].to(image)\n"
            "    y = ys.to(image) + displacement[:, 1].to(image)\n"
            "    grid = torch.stack(((2 * x + 1) / w - 1, (2 * y + 1) / h - 1), dim=3)\n"
            "    return F.grid_sample(image, grid, mode, 'zeros', align_corners=False)\n"
            "\n\n"
            "def warp_labels(labels, displacement):\n"
            "    return warp(labels[:, None].to(displacement), displacement, mode='nearest')[:, 0].long()\n"
        ),
    },
    "q4_segmenter": {
        "whole slices, cross-entropy only, the learning rate decayed by cosine": (
            _INPUTS + "def train_segmenter(part, seed=SEED):\n"
            "    t1, brain, tissue = tissue_tensors(part)\n"
            "    inputs, targets = network_inputs(t1, brain).to(device), tissue.to(device)\n"
            "    torch.manual_seed(seed + 1)\n"
            "    model = UNet(2, 4, base_channels=8, depth=2).to(device)\n"
            "    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)\n"
            "    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, STEPS)\n"
            "    for _ in range(STEPS):\n"
            "        rows = torch.randint(0, len(inputs), (8,)).to(device)\n"
            "        loss = F.cross_entropy(model(inputs[rows]), targets[rows])\n"
            "        optimizer.zero_grad()\n"
            "        loss.backward()\n"
            "        optimizer.step()\n"
            "        schedule.step()\n"
            "    return model.eval()\n"
            "\n\n"
            "def segment(t1, brain):\n"
            "    with torch.no_grad():\n"
            "        logits = segmenter(network_inputs(t1, brain).to(device)).cpu()\n"
            "    return logits.argmax(1) * torch.as_tensor(brain).cpu()\n"
            "\n\n" + _TRAINED
        ),
    },
}
