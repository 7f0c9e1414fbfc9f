"""Plausible wrong answers to Chapter9/hw9_detection.ipynb; each must fail a test.

tests/tools/test_homework.py runs every entry in place of the question's solution cells (the
blank the student receives is always tried as well) and fails unless at least one of the
question's tests, hidden ones included, rejects it. CORRECT holds right answers written
differently, which every test must accept.
"""

from bios740.tools.homework import swap as _swap

# ------------------------------------------------------------ question 1: boxes and IoU

_TO_XYXY = (
    "def to_xyxy(boxes, fmt):\n"
    "    a, b, c, d = torch.as_tensor(boxes).unbind(dim=-1)\n"
    "    if fmt == 'xyxy':\n"
    "        corners = (a, b, c, d)\n"
    "    elif fmt == 'xywh':\n"
    "        corners = (a, b, a + c, b + d)\n"
    "    elif fmt == 'cxcywh':\n"
    "        corners = (a - c / 2, b - d / 2, a + c / 2, b + d / 2)\n"
    "    elif fmt == 'pixel':\n"
    "        corners = (a, b, c + 1, d + 1)\n"
    "    else:\n"
    "        raise ValueError(fmt)\n"
    "    return torch.stack(corners, dim=-1)\n"
    "\n\n"
)
_IOU = (
    "def box_iou(boxes1, boxes2, fmt='xyxy'):\n"
    "    a, b = to_xyxy(boxes1, fmt), to_xyxy(boxes2, fmt)\n"
    "    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])\n"
    "    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])\n"
    "    top_left = torch.maximum(a[:, None, :2], b[None, :, :2])\n"
    "    bottom_right = torch.minimum(a[:, None, 2:], b[None, :, 2:])\n"
    "    overlap = (bottom_right - top_left).clamp(min=0).prod(dim=-1)\n"
    "    return overlap / (area_a[:, None] + area_b[None, :] - overlap)\n"
)
_Q1 = _TO_XYXY + _IOU


def _q1(old: str, new: str) -> str:
    return _swap(_Q1, old, new)


# ------------------------------------------------------------------- question 2: NMS

_NMS = (
    "def nms(boxes, scores, iou_threshold):\n"
    "    iou = helpers.box_iou(boxes, boxes)\n"
    "    removed = torch.zeros(len(boxes), dtype=torch.bool)\n"
    "    keep = []\n"
    "    for i in torch.argsort(scores, descending=True).tolist():\n"
    "        if not removed[i]:\n"
    "            keep.append(i)\n"
    "            removed |= iou[i] > iou_threshold\n"
    "    return torch.tensor(keep, dtype=torch.int64)\n"
    "\n\n"
)
_BATCHED = (
    "def batched_nms(boxes, scores, labels, iou_threshold):\n"
    "    keep = [torch.zeros(0, dtype=torch.int64)]\n"
    "    for label in torch.unique(labels):\n"
    "        members = torch.nonzero(labels == label).flatten()\n"
    "        keep.append(members[nms(boxes[members], scores[members], iou_threshold)])\n"
    "    keep = torch.cat(keep)\n"
    "    return keep[torch.argsort(scores[keep], descending=True)]\n"
)
_Q2 = _NMS + _BATCHED


def _q2(old: str, new: str) -> str:
    return _swap(_Q2, old, new)


# ------------------------------------------------------------ question 3: matching and AP

_MATCH = (
    "def match_slice(boxes, scores, lesions, iou_threshold=0.5):\n"
    "    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)\n"
    "    lesions = np.asarray(lesions, dtype=np.float64).reshape(-1, 4)\n"
    "    outcomes = np.zeros(len(boxes), dtype=np.int64)\n"
    "    if len(boxes) == 0 or len(lesions) == 0:\n"
    "        return outcomes\n"
    "    iou = helpers.box_iou(boxes, lesions).numpy()\n"
    "    matched = np.zeros(len(lesions), dtype=bool)\n"
    "    for d in np.argsort(-np.asarray(scores, dtype=np.float64), kind='stable'):\n"
    "        candidates = np.where(matched | (iou[d] < iou_threshold), -1.0, iou[d])\n"
    "        if candidates.max() >= 0:\n"
    "            matched[candidates.argmax()] = True\n"
    "            outcomes[d] = 1\n"
    "    return outcomes\n"
    "\n\n"
)
_AP = (
    "def coco_ap(scores, outcomes, n_lesions):\n"
    "    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind='stable')\n"
    "    hits = np.asarray(outcomes)[order] == 1\n"
    "    if hits.size == 0:\n"
    "        return 0.0\n"
    "    recall = np.cumsum(hits) / n_lesions\n"
    "    precision = np.cumsum(hits) / np.arange(1, hits.size + 1)\n"
    "    envelope = np.maximum.accumulate(precision[::-1])[::-1]\n"
    "    first = np.searchsorted(recall, np.linspace(0.0, 1.0, 101), side='left')\n"
    "    return float(np.mean([envelope[k] if k < hits.size else 0.0 for k in first]))\n"
)
_Q3 = _MATCH + _AP


def _q3(old: str, new: str) -> str:
    return _swap(_Q3, old, new)


# ------------------------------------------------------------- question 4: the detector

_TRAIN = (
    "def train_detector(part, seed=SEED):\n"
    "    model, _ = helpers.train_centre_net(\n"
    "        part.tensors()[0].to(device), helpers.true_boxes(part), epochs=EPOCHS, seed=seed\n"
    "    )\n"
    "    return model\n"
    "\n\n"
)
_DETECT = (
    "def detect_lesions(images):\n"
    "    return helpers.detect(detector, images.to(device), per_image=10)\n"
    "\n\n"
)
_TRAINED = "detector = train_detector(train)\n"


def _detect_then(transform: str) -> str:
    """A detect_lesions that post-processes the chapter's boxes with ``transform`` (of b)."""
    return (
        _TRAIN + "def detect_lesions(images):\n"
        "    out = []\n"
        "    for b, s in helpers.detect(detector, images.to(device), per_image=10):\n"
        f"        out.append(({transform}, s))\n"
        "    return out\n"
        "\n\n" + _TRAINED
    )


# ------------------------------------------------------- question 5: the operating point

_CHOOSE = (
    "def choose_threshold(scores, outcomes, n_images, target_fp):\n"
    "    scores, outcomes = np.asarray(scores, dtype=np.float64), np.asarray(outcomes)\n"
    "    best = float('inf')\n"
    "    for threshold in np.unique(scores[outcomes >= 0])[::-1]:\n"
    "        false_positives = np.sum((scores >= threshold) & (outcomes == 0))\n"
    "        if false_positives / n_images > target_fp:\n"
    "            break\n"
    "        best = float(threshold)\n"
    "    return best\n"
    "\n\n"
)
_REPORT = (
    "operating_threshold = choose_threshold(val_scores, val_outcomes, len(x_val), TARGET_FP)\n"
    "kept = test_scores >= operating_threshold\n"
    "test_sensitivity = float(np.sum(kept & (test_outcomes == 1)) / n_test_lesions)\n"
    "test_fp_per_slice = float(np.sum(kept & (test_outcomes == 0)) / len(x_test))\n"
)
_Q5 = _CHOOSE + _REPORT


def _q5(old: str, new: str) -> str:
    return _swap(_Q5, old, new)


MISTAKES = {
    "q1_box_iou": {
        "(x, y, w, h) boxes treated as (x1, y1, x2, y2)": _q1(
            "    if fmt == 'xyxy':\n", "    if fmt in ('xyxy', 'xywh'):\n"
        ),
        "centre boxes read as corner plus size": _q1(
            "        corners = (a - c / 2, b - d / 2, a + c / 2, b + d / 2)\n",
            "        corners = (a, b, a + c, b + d)\n",
        ),
        "width and height swapped in (x, y, w, h)": _q1(
            "        corners = (a, b, a + c, b + d)\n", "        corners = (a, b, a + d, b + c)\n"
        ),
        "pixel indices used as continuous corners (no + 1)": _q1(
            "        corners = (a, b, c + 1, d + 1)\n", "        corners = (a, b, c, d)\n"
        ),
        "+ 1 added on both sides of a pixel box": _q1(
            "        corners = (a, b, c + 1, d + 1)\n",
            "        corners = (a - 1, b - 1, c + 1, d + 1)\n",
        ),
        "+1-pixel areas (PASCAL VOC's devkit) mixed with continuous corners": _q1(
            "    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])\n"
            "    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])\n"
            "    top_left = torch.maximum(a[:, None, :2], b[None, :, :2])\n"
            "    bottom_right = torch.minimum(a[:, None, 2:], b[None, :, 2:])\n"
            "    overlap = (bottom_right - top_left).clamp(min=0).prod(dim=-1)\n",
            "    area_a = (a[:, 2] - a[:, 0] + 1) * (a[:, 3] - a[:, 1] + 1)\n"
            "    area_b = (b[:, 2] - b[:, 0] + 1) * (b[:, 3] - b[:, 1] + 1)\n"
            "    top_left = torch.maximum(a[:, None, :2], b[None, :, :2])\n"
            "    bottom_right = torch.minimum(a[:, None, 2:], b[None, :, 2:])\n"
            "    overlap = (bottom_right - top_left + 1).clamp(min=0).prod(dim=-1)\n",
        ),
        "the area of the product clamped, not each side": _q1(
            "(bottom_right - top_left).clamp(min=0).prod(dim=-1)",
            "(bottom_right - top_left).prod(dim=-1).clamp(min=0)",
        ),
        "union without subtracting the intersection": _q1(
            "    return overlap / (area_a[:, None] + area_b[None, :] - overlap)\n",
            "    return overlap / (area_a[:, None] + area_b[None, :])\n",
        ),
        "intersection from min/max swapped (the hull box)": _q1(
            "    top_left = torch.maximum(a[:, None, :2], b[None, :, :2])\n"
            "    bottom_right = torch.minimum(a[:, None, 2:], b[None, :, 2:])\n",
            "    top_left = torch.minimum(a[:, None, :2], b[None, :, :2])\n"
            "    bottom_right = torch.maximum(a[:, None, 2:], b[None, :, 2:])\n",
        ),
        "x and y mixed in the areas (x-extent times x-extent)": _q1(
            "    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])\n",
            "    area_a = (a[:, 2] - a[:, 0]) * (a[:, 2] - a[:, 0])\n",
        ),
        "IoU matrix transposed (M, N)": _q1(
            "    return overlap / (area_a[:, None] + area_b[None, :] - overlap)\n",
            "    return (overlap / (area_a[:, None] + area_b[None, :] - overlap)).T\n",
        ),
        "unknown fmt silently treated as xyxy": _q1(
            "    else:\n        raise ValueError(fmt)\n",
            "    else:\n        corners = (a, b, c, d)\n",
        ),
        "a Python loop over the pairs": (
            _TO_XYXY + "def box_iou(boxes1, boxes2, fmt='xyxy'):\n"
            "    a, b = to_xyxy(boxes1, fmt), to_xyxy(boxes2, fmt)\n"
            "    out = torch.zeros(len(a), len(b), dtype=a.dtype)\n"
            "    for i in range(len(a)):\n"
            "        for j in range(len(b)):\n"
            "            w = min(a[i, 2], b[j, 2]) - max(a[i, 0], b[j, 0])\n"
            "            h = min(a[i, 3], b[j, 3]) - max(a[i, 1], b[j, 1])\n"
            "            inter = max(w, 0) * max(h, 0)\n"
            "            area_a = (a[i, 2] - a[i, 0]) * (a[i, 3] - a[i, 1])\n"
            "            area_b = (b[j, 2] - b[j, 0]) * (b[j, 3] - b[j, 1])\n"
            "            out[i, j] = inter / (area_a + area_b - inter)\n"
            "    return out\n"
        ),
        "rule: torchvision.ops.box_iou and box_convert": (
            "def to_xyxy(boxes, fmt):\n"
            "    if fmt == 'pixel':\n"
            "        return boxes + torch.tensor([0.0, 0.0, 1.0, 1.0], dtype=boxes.dtype)\n"
            "    if fmt not in ('xyxy', 'xywh', 'cxcywh'):\n"
            "        raise ValueError(fmt)\n"
            "    return torchvision.ops.box_convert(boxes, fmt, 'xyxy')\n"
            "\n\n"
            "def box_iou(boxes1, boxes2, fmt='xyxy'):\n"
            "    return torchvision.ops.box_iou(to_xyxy(boxes1, fmt), to_xyxy(boxes2, fmt))\n"
        ),
        "rule: the chapter's helpers.box_iou": (
            _TO_XYXY + "def box_iou(boxes1, boxes2, fmt='xyxy'):\n"
            "    return helpers.box_iou(to_xyxy(boxes1, fmt), to_xyxy(boxes2, fmt))\n"
        ),
    },
    "q2_nms": {
        "NMS in the input order, not sorted by score": _q2(
            "    for i in torch.argsort(scores, descending=True).tolist():\n",
            "    for i in range(len(boxes)):\n",
        ),
        "sorted by ascending score": _q2(
            "torch.argsort(scores, descending=True).tolist()", "torch.argsort(scores).tolist()"
        ),
        "IoU equal to the threshold suppresses (>= instead of >)": _q2(
            "removed |= iou[i] > iou_threshold", "removed |= iou[i] >= iou_threshold"
        ),
        "suppressed boxes still suppress": (
            "def nms(boxes, scores, iou_threshold):\n"
            "    iou = helpers.box_iou(boxes, boxes)\n"
            "    keep = []\n"
            "    for i in torch.argsort(scores, descending=True).tolist():\n"
            "        higher = scores > scores[i]\n"
            "        if not (higher & (iou[i] > iou_threshold)).any():\n"
            "            keep.append(i)\n"
            "    return torch.tensor(keep, dtype=torch.int64)\n"
            "\n\n" + _BATCHED
        ),
        "kept indices returned in index order": _q2(
            "    return torch.tensor(keep, dtype=torch.int64)\n",
            "    return torch.tensor(sorted(keep), dtype=torch.int64)\n",
        ),
        "batched NMS suppresses across classes": (
            _NMS + "def batched_nms(boxes, scores, labels, iou_threshold):\n"
            "    return nms(boxes, scores, iou_threshold)\n"
        ),
        "batched NMS with an offset smaller than the boxes": (
            _NMS + "def batched_nms(boxes, scores, labels, iou_threshold):\n"
            "    shifted = boxes + 10.0 * labels.to(boxes.dtype)[:, None]\n"
            "    return nms(shifted, scores, iou_threshold)\n"
        ),
        "batched NMS results concatenated class by class, not re-sorted": _q2(
            "    return keep[torch.argsort(scores[keep], descending=True)]\n", "    return keep\n"
        ),
        "batched NMS returns positions within each class": _q2(
            "        keep.append(members[nms(boxes[members], scores[members], iou_threshold)])\n",
            "        keep.append(nms(boxes[members], scores[members], iou_threshold))\n"
            "        keep[-1] = torch.as_tensor(keep[-1], dtype=torch.int64)\n",
        ),
        "rule: torchvision.ops.nms": (
            "def nms(boxes, scores, iou_threshold):\n"
            "    return torchvision.ops.nms(boxes, scores, iou_threshold)\n"
            "\n\n"
            "def batched_nms(boxes, scores, labels, iou_threshold):\n"
            "    return torchvision.ops.batched_nms(boxes, scores, labels, iou_threshold)\n"
        ),
        "rule: batched_nms by torchvision, nms by hand": (
            _NMS + "def batched_nms(boxes, scores, labels, iou_threshold):\n"
            "    return torchvision.ops.batched_nms(boxes, scores, labels, iou_threshold)\n"
        ),
    },
    "q3_average_precision": {
        "matching in the input order, not by score": _q3(
            "    for d in np.argsort(-np.asarray(scores, dtype=np.float64), kind='stable'):\n",
            "    for d in range(len(boxes)):\n",
        ),
        "duplicates of a found lesion counted as true positives": _q3(
            "        candidates = np.where(matched | (iou[d] < iou_threshold), -1.0, iou[d])\n",
            "        candidates = np.where(iou[d] < iou_threshold, -1.0, iou[d])\n",
        ),
        "IoU must exceed the threshold (> instead of >=)": _q3(
            "(iou[d] < iou_threshold)", "(iou[d] <= iou_threshold)"
        ),
        "the first free lesion that hits, not the best": _q3(
            "            matched[candidates.argmax()] = True\n",
            "            matched[np.flatnonzero(candidates >= 0)[0]] = True\n",
        ),
        "AP from unsorted detections": _q3(
            "    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind='stable')\n",
            "    order = np.arange(len(scores))\n",
        ),
        "AP sorted by ascending score": _q3(
            "np.argsort(-np.asarray(scores, dtype=np.float64), kind='stable')\n    hits",
            "np.argsort(np.asarray(scores, dtype=np.float64), kind='stable')\n    hits",
        ),
        "AP without the envelope": _q3(
            "    envelope = np.maximum.accumulate(precision[::-1])[::-1]\n",
            "    envelope = precision\n",
        ),
        "envelope taken from the top (running maximum forward)": _q3(
            "    envelope = np.maximum.accumulate(precision[::-1])[::-1]\n",
            "    envelope = np.maximum.accumulate(precision)\n",
        ),
        "recall over the detections instead of the lesions": _q3(
            "    recall = np.cumsum(hits) / n_lesions\n",
            "    recall = np.cumsum(hits) / hits.size\n",
        ),
        "recall over the lesions found (missed lesions ignored)": _q3(
            "    recall = np.cumsum(hits) / n_lesions\n",
            "    recall = np.cumsum(hits) / max(hits.sum(), 1)\n",
        ),
        "a recall point reached exactly is skipped (side='right')": _q3(
            "side='left'", "side='right'"
        ),
        "PASCAL VOC 2007's 11 points instead of 101": _q3(
            "np.linspace(0.0, 1.0, 101)", "np.linspace(0.0, 1.0, 11)"
        ),
        "all-point area instead of COCO's 101 points": _q3(
            "    first = np.searchsorted(recall, np.linspace(0.0, 1.0, 101), side='left')\n"
            "    return float(np.mean([envelope[k] if k < hits.size else 0.0 for k in first]))\n",
            "    return float(np.sum(np.diff(np.r_[0.0, recall]) * envelope))\n",
        ),
        "rule: helpers.match_detections and helpers.ap_from_matches": (
            "def match_slice(boxes, scores, lesions, iou_threshold=0.5):\n"
            "    return helpers.match_detections(boxes, scores, lesions, iou_threshold)\n"
            "\n\n"
            "def coco_ap(scores, outcomes, n_lesions):\n"
            "    if len(scores) == 0:\n"
            "        return 0.0\n"
            "    return helpers.ap_from_matches(scores, outcomes, n_lesions)\n"
        ),
        "rule: matching by hand, AP by helpers.ap_from_matches": (
            _MATCH + "def coco_ap(scores, outcomes, n_lesions):\n"
            "    if len(scores) == 0:\n"
            "        return 0.0\n"
            "    return helpers.ap_from_matches(scores, outcomes, n_lesions, 'coco')\n"
        ),
    },
    "q4_detector": {
        "untrained detector": (
            "def train_detector(part, seed=SEED):\n"
            "    torch.manual_seed(seed)\n"
            "    return helpers.CentreNet().to(device).eval()\n"
            "\n\n" + _DETECT + _TRAINED
        ),
        "the bright-spot rule handed in as the detector": (
            _TRAIN + "def detect_lesions(images):\n"
            "    flair = ndimage.gaussian_filter(images[:, 1].cpu().double().numpy(), (0, 1, 1))\n"
            "    out = []\n"
            "    for image in flair:\n"
            "        brain = image > 0.05 * image.max()\n"
            "        relative = np.where(brain, image / np.median(image[brain]), 0.0)\n"
            "        peaks = (relative == ndimage.maximum_filter(relative, 5)) & brain\n"
            "        rows, cols = np.nonzero(peaks & (relative > 1.0))\n"
            "        order = np.argsort(-relative[rows, cols])[:10]\n"
            "        r, c = rows[order], cols[order]\n"
            "        boxes = np.stack([c - 1.0, r - 1.0, c + 2.0, r + 2.0], axis=1)\n"
            "        out.append((boxes, relative[r, c]))\n"
            "    return out\n"
            "\n\n"
            "detector = None\n"
        ),
        "boxes with x and y swapped (rows for columns)": _detect_then("b[:, [1, 0, 3, 2]]"),
        "boxes returned as (x, y, w, h)": _detect_then("np.c_[b[:, :2], b[:, 2:] - b[:, :2]]"),
        "boxes returned as (cx, cy, w, h)": _detect_then(
            "np.c_[(b[:, :2] + b[:, 2:]) / 2, b[:, 2:] - b[:, :2]]"
        ),
        "boxes on the output grid (not multiplied by the stride)": _detect_then("b / 2"),
        "scores turned upside down (1 - p)": (
            _TRAIN + "def detect_lesions(images):\n"
            "    return [(b, 1 - s) for b, s in helpers.detect(detector, images.to(device))]\n"
            "\n\n" + _TRAINED
        ),
        "one detection per slice (the top one only)": (
            _TRAIN + "def detect_lesions(images):\n"
            "    return helpers.detect(detector, images.to(device), per_image=1)\n"
            "\n\n" + _TRAINED
        ),
    },
    "q5_operating_point": {
        "the operating point tuned on the test detections": _q5(
            "operating_threshold = choose_threshold(val_scores, val_outcomes, len(x_val), TARGET_FP)\n",
            "operating_threshold = choose_threshold(test_scores, test_outcomes, len(x_test), TARGET_FP)\n",
        ),
        "ignored duplicates counted as false positives": _q5(
            "        false_positives = np.sum((scores >= threshold) & (outcomes == 0))\n",
            "        false_positives = np.sum((scores >= threshold) & (outcomes != 1))\n",
        ),
        "strictly fewer false positives than the target (< instead of <=)": _q5(
            "        if false_positives / n_images > target_fp:\n",
            "        if false_positives / n_images >= target_fp:\n",
        ),
        "tied scores split (detections added one at a time)": _q5(
            "    for threshold in np.unique(scores[outcomes >= 0])[::-1]:\n"
            "        false_positives = np.sum((scores >= threshold) & (outcomes == 0))\n",
            "    order = np.argsort(-scores, kind='stable')\n"
            "    order = order[outcomes[order] >= 0]\n"
            "    running = np.cumsum(outcomes[order] == 0)\n"
            "    for k, threshold in enumerate(scores[order]):\n"
            "        false_positives = running[k]\n",
        ),
        "false positives per lesion instead of per slice": _q5(
            "        if false_positives / n_images > target_fp:\n",
            "        if false_positives / max(1, np.sum(outcomes == 1)) > target_fp:\n",
        ),
        "false positives counted in total, not per slice": _q5(
            "        if false_positives / n_images > target_fp:\n",
            "        if false_positives > target_fp:\n",
        ),
        "the highest threshold within the target, not the lowest": _q5(
            "            break\n        best = float(threshold)\n",
            "            break\n        best = float(threshold)\n        break\n",
        ),
        "one detection past the target (threshold where it is exceeded)": _q5(
            "        if false_positives / n_images > target_fp:\n            break\n"
            "        best = float(threshold)\n",
            "        best = float(threshold)\n"
            "        if false_positives / n_images > target_fp:\n            break\n",
        ),
        "sensitivity over the kept detections (precision)": _q5(
            "test_sensitivity = float(np.sum(kept & (test_outcomes == 1)) / n_test_lesions)\n",
            "test_sensitivity = float(np.sum(kept & (test_outcomes == 1)) / np.sum(kept))\n",
        ),
        "false positives per slice over the test lesions": _q5(
            "test_fp_per_slice = float(np.sum(kept & (test_outcomes == 0)) / len(x_test))\n",
            "test_fp_per_slice = float(np.sum(kept & (test_outcomes == 0)) / n_test_lesions)\n",
        ),
    },
}

CORRECT = {
    "q1_box_iou": {
        "corners from a conversion table, clamp by torch.clamp, unsqueeze": (
            "def to_xyxy(boxes, fmt):\n"
            "    boxes = torch.as_tensor(boxes)\n"
            "    if fmt not in ('xyxy', 'xywh', 'cxcywh', 'pixel'):\n"
            "        raise ValueError(f'unknown box format {fmt}')\n"
            "    x, y, p, q = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]\n"
            "    if fmt == 'xywh':\n"
            "        p, q = x + p, y + q\n"
            "    elif fmt == 'cxcywh':\n"
            "        x, y, p, q = x - p / 2, y - q / 2, x + p / 2, y + q / 2\n"
            "    elif fmt == 'pixel':\n"
            "        p, q = p + 1, q + 1\n"
            "    return torch.stack((x, y, p, q), 1)\n"
            "\n\n"
            "def box_iou(boxes1, boxes2, fmt='xyxy'):\n"
            "    a = to_xyxy(boxes1, fmt).unsqueeze(1)\n"
            "    b = to_xyxy(boxes2, fmt).unsqueeze(0)\n"
            "    w = torch.clamp(torch.min(a[..., 2], b[..., 2]) - torch.max(a[..., 0], b[..., 0]), min=0)\n"
            "    h = torch.clamp(torch.min(a[..., 3], b[..., 3]) - torch.max(a[..., 1], b[..., 1]), min=0)\n"
            "    inter = w * h\n"
            "    area = lambda z: (z[..., 2] - z[..., 0]) * (z[..., 3] - z[..., 1])\n"
            "    return inter / (area(a) + area(b) - inter)\n"
        ),
    },
    "q2_nms": {
        "while loop over a shrinking order; offset trick for classes": (
            "def nms(boxes, scores, iou_threshold):\n"
            "    order = scores.argsort(descending=True)\n"
            "    keep = []\n"
            "    while order.numel() > 0:\n"
            "        best = order[0]\n"
            "        keep.append(int(best))\n"
            "        rest = order[1:]\n"
            "        if rest.numel() == 0:\n"
            "            break\n"
            "        overlap = torchvision.ops.box_iou(boxes[best].unsqueeze(0), boxes[rest])[0]\n"
            "        order = rest[overlap <= iou_threshold]\n"
            "    return torch.as_tensor(keep, dtype=torch.long)\n"
            "\n\n"
            "def batched_nms(boxes, scores, labels, iou_threshold):\n"
            "    if boxes.numel() == 0:\n"
            "        return torch.zeros(0, dtype=torch.long)\n"
            "    offsets = labels.to(boxes.dtype) * (boxes.max() + 1)\n"
            "    return nms(boxes + offsets[:, None], scores, iou_threshold)\n"
        ),
    },
    "q3_average_precision": {
        "loops, envelope by max over later ranks": (
            "def match_slice(boxes, scores, lesions, iou_threshold=0.5):\n"
            "    boxes = torch.as_tensor(np.asarray(boxes, dtype=float).reshape(-1, 4))\n"
            "    lesions = torch.as_tensor(np.asarray(lesions, dtype=float).reshape(-1, 4))\n"
            "    result = [0] * len(boxes)\n"
            "    if len(boxes) == 0 or len(lesions) == 0:\n"
            "        return np.array(result)\n"
            "    iou = box_iou(boxes, lesions)\n"
            "    free = set(range(len(lesions)))\n"
            "    for d in sorted(range(len(boxes)), key=lambda k: -float(scores[k])):\n"
            "        best, best_iou = None, -1.0\n"
            "        for lesion in free:\n"
            "            value = float(iou[d, lesion])\n"
            "            if value >= iou_threshold and value > best_iou:\n"
            "                best, best_iou = lesion, value\n"
            "        if best is not None:\n"
            "            free.remove(best)\n"
            "            result[d] = 1\n"
            "    return np.array(result)\n"
            "\n\n"
            "def coco_ap(scores, outcomes, n_lesions):\n"
            "    ranked = [o for _, o in sorted(zip(scores, outcomes), key=lambda p: -p[0])]\n"
            "    precision, recall, hits = [], [], 0\n"
            "    for k, outcome in enumerate(ranked, start=1):\n"
            "        hits += outcome == 1\n"
            "        precision.append(hits / k)\n"
            "        recall.append(hits / n_lesions)\n"
            "    total = 0.0\n"
            "    for i in range(101):\n"
            "        r = np.linspace(0, 1, 101)[i]\n"
            "        later = [p for p, q in zip(precision, recall) if q >= r]\n"
            "        total += max(later) if later else 0.0\n"
            "    return total / 101\n"
        ),
    },
    "q4_detector": {
        "a wider CentreNet, more candidates, duplicates removed by nms": (
            "def train_detector(part, seed=SEED):\n"
            "    images = part.tensors()[0].to(device)\n"
            "    model, _ = helpers.train_centre_net(\n"
            "        images, helpers.true_boxes(part), epochs=EPOCHS, seed=seed + 1, width=32, lr=2e-3\n"
            "    )\n"
            "    return model\n"
            "\n\n"
            "def detect_lesions(images):\n"
            "    found = []\n"
            "    for boxes, scores in helpers.detect(detector, images.to(device), per_image=20):\n"
            "        boxes, scores = torch.as_tensor(boxes), torch.as_tensor(scores)\n"
            "        keep = nms(boxes, scores, 0.7)\n"
            "        found.append((boxes[keep], scores[keep]))\n"
            "    return found\n"
            "\n\n"
            "detector = train_detector(train)\n"
        ),
    },
    "q5_operating_point": {
        "thresholds from the sorted scores, sensitivity by counting": (
            "def choose_threshold(scores, outcomes, n_images, target_fp):\n"
            "    scores, outcomes = np.asarray(scores, float), np.asarray(outcomes)\n"
            "    candidates = sorted(set(scores[outcomes != -1].tolist()))\n"
            "    for t in candidates:  # lowest first: the first within the target wins\n"
            "        if ((scores >= t) & (outcomes == 0)).sum() <= target_fp * n_images:\n"
            "            return float(t)\n"
            "    return float('inf')\n"
            "\n\n"
            "operating_threshold = choose_threshold(val_scores, val_outcomes, len(val), TARGET_FP)\n"
            "hits = sum(1 for s, o in zip(test_scores, test_outcomes) if s >= operating_threshold and o == 1)\n"
            "false = sum(1 for s, o in zip(test_scores, test_outcomes) if s >= operating_threshold and o == 0)\n"
            "test_sensitivity = hits / n_test_lesions\n"
            "test_fp_per_slice = false / len(test)\n"
        ),
    },
}
