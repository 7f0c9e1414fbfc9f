"""Plausible wrong answers to Chapter8/hw8_text_mining.ipynb; each must fail a test.

tests/tools/test_homework.py runs every entry in place of the question's solution cells (the
blank the student receives is always tried as well) and fails unless at least one of the
question's tests, hidden ones included, rejects it. CORRECT holds right answers written
differently, which every test must accept.
"""

from bios740.tools.homework import swap as _swap

# ------------------------------------------------------------------ question 1: WordPiece

_WORDPIECE = (
    "def wordpiece(word, vocab, unk='[UNK]', max_chars=100):\n"
    "    if len(word) > max_chars:\n"
    "        return [unk]\n"
    "    pieces, start = [], 0\n"
    "    while start < len(word):\n"
    "        for end in range(len(word), start, -1):\n"
    "            piece = word[start:end] if start == 0 else '##' + word[start:end]\n"
    "            if piece in vocab:\n"
    "                break\n"
    "        else:\n"
    "            return [unk]\n"
    "        pieces.append(piece)\n"
    "        start = end\n"
    "    return pieces\n"
)


def _wordpiece(old: str, new: str) -> str:
    return _swap(_WORDPIECE, old, new)


# ------------------------------------------------------------------ question 2: log Z

_FORWARD = (
    "def crf_log_partition(emissions, transitions, start, end):\n"
    "    alpha = start + emissions[0]\n"
    "    for t in range(1, emissions.shape[0]):\n"
    "        alpha = torch.logsumexp(alpha[:, None] + transitions, dim=0) + emissions[t]\n"
    "    return torch.logsumexp(alpha + end, dim=0)\n"
)


def _forward(old: str, new: str) -> str:
    return _swap(_FORWARD, old, new)


# ------------------------------------------------------------------ question 3: Viterbi

_VITERBI = (
    "def viterbi(emissions, transitions, start, end):\n"
    "    delta = start + emissions[0]\n"
    "    pointers = []\n"
    "    for t in range(1, emissions.shape[0]):\n"
    "        delta, best_previous = (delta[:, None] + transitions).max(dim=0)\n"
    "        delta = delta + emissions[t]\n"
    "        pointers.append(best_previous)\n"
    "    final = delta + end\n"
    "    tag = int(final.argmax())\n"
    "    path = [tag]\n"
    "    for best_previous in reversed(pointers):\n"
    "        tag = int(best_previous[tag])\n"
    "        path.append(tag)\n"
    "    return path[::-1], float(final.max())\n"
)


def _viterbi(old: str, new: str) -> str:
    return _swap(_VITERBI, old, new)


# ------------------------------------------------------------------ question 4: alignment

_ALIGN = (
    "def align_labels(word_tags, word_ids, tag_to_id):\n"
    "    labels, previous = [], None\n"
    "    for word_id in word_ids:\n"
    "        if word_id is None:\n"
    "            labels.append(-100)\n"
    "        elif word_id != previous:\n"
    "            labels.append(tag_to_id[word_tags[word_id]])\n"
    "        else:\n"
    "            tag = word_tags[word_id]\n"
    "            labels.append(tag_to_id['I-' + tag[2:] if tag != 'O' else 'O'])\n"
    "        previous = word_id\n"
    "    return labels\n"
)


def _align(old: str, new: str) -> str:
    return _swap(_ALIGN, old, new)


# ------------------------------------------------------------------ question 5: entity F1

_F1 = (
    "def entity_f1(true_tags, pred_tags):\n"
    "    def entities(sentences):\n"
    "        found = set()\n"
    "        for s, tags in enumerate(sentences):\n"
    "            start, kind = None, None\n"
    "            for i, tag in enumerate([*tags, 'O']):\n"
    "                prefix, _, name = tag.partition('-')\n"
    "                continues = prefix == 'I' and name == kind\n"
    "                if start is not None and not continues:\n"
    "                    found.add((s, kind, start, i - 1))\n"
    "                    start, kind = None, None\n"
    "                if prefix in ('B', 'I') and not continues:\n"
    "                    start, kind = i, name\n"
    "        return found\n"
    "\n"
    "    truth, predicted = entities(true_tags), entities(pred_tags)\n"
    "    correct = len(truth & predicted)\n"
    "    precision = correct / len(predicted) if predicted else 0.0\n"
    "    recall = correct / len(truth) if truth else 0.0\n"
    "    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0\n"
    "    return precision, recall, f1\n"
)


def _f1(old: str, new: str) -> str:
    return _swap(_F1, old, new)


# ------------------------------------------------------------------ question 6: the head

_HEAD = (
    "class FindingHead(nn.Module):\n"
    "    def __init__(self, mean, std, hidden=128, standardise=True):\n"
    "        super().__init__()\n"
    "        self.register_buffer('mean', mean if standardise else torch.zeros_like(mean))\n"
    "        self.register_buffer('std', std if standardise else torch.ones_like(std))\n"
    "        self.net = nn.Sequential(\n"
    "            nn.Dropout(0.2), nn.Linear(mean.numel(), hidden), nn.GELU(),\n"
    "            nn.Dropout(0.2), nn.Linear(hidden, 5),\n"
    "        )\n"
    "\n"
    "    def forward(self, features):\n"
    "        return self.net((features - self.mean) / self.std)\n"
    "\n"
    "\n"
    "def fit_head(head, x, y, steps=300, flip=False, shuffle_labels=False):\n"
    "    torch.manual_seed(0)\n"
    "    if flip:\n"
    "        y = 1 - y\n"
    "    if shuffle_labels:\n"
    "        y = y[torch.randperm(len(y))]\n"
    "    positives = y.sum(0).clamp(min=1)\n"
    "    loss_fn = nn.BCEWithLogitsLoss(pos_weight=(len(y) - positives) / positives)\n"
    "    optimizer = torch.optim.AdamW(head.parameters(), lr=1e-3, weight_decay=0.05)\n"
    "    for _ in range(steps):\n"
    "        head.train()\n"
    "        loss = loss_fn(head(x), y)\n"
    "        optimizer.zero_grad()\n"
    "        loss.backward()\n"
    "        optimizer.step()\n"
    "    return head.eval()\n"
    "\n"
    "\n"
)
_RUN = "\n\nfinding_head = train_finding_head(x_train, y_train, x_val, y_val)\n"


def _train(body: str) -> str:
    return (
        _HEAD
        + "def train_finding_head(x_train, y_train, x_val, y_val, seed=SEED):\n"
        + "    mean, std = x_train.mean(0), x_train.std(0) + 1e-6\n"
        + body
        + _RUN
    )


MISTAKES = {
    "q1_wordpiece": {
        "forgets the ## prefix of continuation pieces": _wordpiece(
            "word[start:end] if start == 0 else '##' + word[start:end]", "word[start:end]"
        ),
        "shortest match first": _wordpiece(
            "range(len(word), start, -1)", "range(start + 1, len(word) + 1)"
        ),
        "## on the first piece too": _wordpiece(
            "word[start:end] if start == 0 else '##' + word[start:end]", "'##' + word[start:end]"
        ),
        "[UNK] only for the unmatched rest (keeps the pieces found)": _wordpiece(
            "        else:\n            return [unk]\n",
            "        else:\n            return pieces + [unk]\n",
        ),
        "skips an unmatched character instead of giving up": _wordpiece(
            "        else:\n            return [unk]\n",
            "        else:\n            start += 1\n            continue\n",
        ),
        "max_chars off by one (a word of max_chars is [UNK])": _wordpiece(
            "len(word) > max_chars", "len(word) >= max_chars"
        ),
        "no max_chars rule": _wordpiece(
            "    if len(word) > max_chars:\n        return [unk]\n", ""
        ),
        "[UNK] hard-coded, the unk argument ignored": _wordpiece(
            "return [unk]", "return ['[UNK]']"
        ),
        "longest match never tries the whole rest (end stops one short)": _wordpiece(
            "range(len(word), start, -1)", "range(len(word) - 1, start, -1)"
        ),
        "rule: the Hugging Face tokenizer": (
            "def wordpiece(word, vocab, unk='[UNK]', max_chars=100):\n"
            "    return tokenizer.tokenize(word)\n"
        ),
        "rule: tokenizers' WordPiece model built from the vocab": (
            "def wordpiece(word, vocab, unk='[UNK]', max_chars=100):\n"
            "    ids = {token: i for i, token in enumerate(vocab)}\n"
            "    if unk not in ids:\n"
            "        ids[unk] = len(ids)\n"
            "    model = tokenizers.models.WordPiece(ids, unk_token=unk, max_input_chars_per_word=max_chars)\n"
            "    return [token.value for token in model.tokenize(word)]\n"
        ),
    },
    "q2_crf_log_partition": {
        "probability space (overflows and underflows on long sequences)": (
            "def crf_log_partition(emissions, transitions, start, end):\n"
            "    alpha = torch.exp(start + emissions[0])\n"
            "    for t in range(1, emissions.shape[0]):\n"
            "        alpha = (alpha @ torch.exp(transitions)) * torch.exp(emissions[t])\n"
            "    return torch.log((alpha * torch.exp(end)).sum())\n"
        ),
        "start and end scores left out": _forward(
            "    alpha = start + emissions[0]\n", "    alpha = emissions[0]\n"
        ).replace("torch.logsumexp(alpha + end, dim=0)", "torch.logsumexp(alpha, dim=0)"),
        "end scores left out": _forward(
            "torch.logsumexp(alpha + end, dim=0)", "torch.logsumexp(alpha, dim=0)"
        ),
        "start scores left out": _forward(
            "    alpha = start + emissions[0]\n", "    alpha = emissions[0]\n"
        ),
        "transitions transposed (transitions[j, i])": _forward(
            "alpha[:, None] + transitions", "alpha[:, None] + transitions.T"
        ),
        "log-sum-exp over the wrong axis": _forward(
            "torch.logsumexp(alpha[:, None] + transitions, dim=0)",
            "torch.logsumexp(alpha[:, None] + transitions, dim=1)",
        ),
        "max instead of log-sum-exp (the Viterbi score)": _forward(
            "torch.logsumexp(alpha[:, None] + transitions, dim=0)",
            "(alpha[:, None] + transitions).amax(dim=0)",
        ).replace("torch.logsumexp(alpha + end, dim=0)", "(alpha + end).max()"),
        "first emission left out": _forward(
            "    alpha = start + emissions[0]\n", "    alpha = start.clone()\n"
        ),
        "sum of log-sum-exps per position (ignores the tag pairs)": (
            "def crf_log_partition(emissions, transitions, start, end):\n"
            "    return torch.logsumexp(emissions, dim=1).sum() + torch.logsumexp(start, 0)"
            " + torch.logsumexp(end, 0)\n"
        ),
        "rule: pytorch-crf's normalizer": (
            "def crf_log_partition(emissions, transitions, start, end):\n"
            "    crf = torchcrf.CRF(transitions.shape[0]).to(emissions.dtype)\n"
            "    with torch.no_grad():\n"
            "        crf.transitions.copy_(transitions)\n"
            "        crf.start_transitions.copy_(start)\n"
            "        crf.end_transitions.copy_(end)\n"
            "    mask = torch.ones(emissions.shape[0], 1, dtype=torch.bool)\n"
            "    return crf._compute_normalizer(emissions[:, None], mask)[0]\n"
        ),
    },
    "q3_viterbi": {
        "no back-pointers: the best tag of each delta_t": (
            "def viterbi(emissions, transitions, start, end):\n"
            "    delta = start + emissions[0]\n"
            "    path = []\n"
            "    for t in range(1, emissions.shape[0]):\n"
            "        path.append(int(delta.argmax()))\n"
            "        delta = (delta[:, None] + transitions).amax(dim=0) + emissions[t]\n"
            "    final = delta + end\n"
            "    path.append(int(final.argmax()))\n"
            "    return path, float(final.max())\n"
        ),
        "greedy per position on the emissions": (
            "def viterbi(emissions, transitions, start, end):\n"
            "    path = emissions.argmax(dim=1).tolist()\n"
            "    score = start[path[0]] + end[path[-1]] + emissions[range(len(path)), path].sum()\n"
            "    score = score + sum(transitions[a, b] for a, b in zip(path, path[1:]))\n"
            "    return path, float(score)\n"
        ),
        "path returned in reverse order": _viterbi("return path[::-1],", "return path,"),
        "off by one in the backtrack (pointer of the wrong step)": _viterbi(
            "    for best_previous in reversed(pointers):\n"
            "        tag = int(best_previous[tag])\n"
            "        path.append(tag)\n",
            "    for t in range(len(pointers) - 1, -1, -1):\n"
            "        tag = int(pointers[t - 1][tag]) if t > 0 else int(pointers[0][tag])\n"
            "        path.append(tag)\n",
        ),
        "transitions transposed (transitions[j, i])": _viterbi(
            "delta[:, None] + transitions", "delta[:, None] + transitions.T"
        ),
        "end scores left out": _viterbi("final = delta + end", "final = delta"),
        "start scores left out": _viterbi(
            "    delta = start + emissions[0]\n", "    delta = emissions[0].clone()\n"
        ),
        "maximum over the wrong axis": _viterbi(
            "(delta[:, None] + transitions).max(dim=0)", "(delta[None, :] + transitions).max(dim=1)"
        ),
        "score of the last emission only added to the winner": _viterbi(
            "        delta = delta + emissions[t]\n", ""
        ).replace("final = delta + end", "final = delta + end + emissions[-1]"),
        "rule: pytorch-crf's decode": (
            "def viterbi(emissions, transitions, start, end):\n"
            "    crf = torchcrf.CRF(transitions.shape[0]).to(emissions.dtype)\n"
            "    with torch.no_grad():\n"
            "        crf.transitions.copy_(transitions)\n"
            "        crf.start_transitions.copy_(start)\n"
            "        crf.end_transitions.copy_(end)\n"
            "    path = crf.decode(emissions[:, None])[0]\n"
            "    score = start[path[0]] + end[path[-1]] + emissions[range(len(path)), path].sum()\n"
            "    score = score + sum(transitions[a, b] for a, b in zip(path, path[1:]))\n"
            "    return path, float(score)\n"
        ),
    },
    "q4_align_labels": {
        "B- on every piece of a B- word": _align(
            "            labels.append(tag_to_id['I-' + tag[2:] if tag != 'O' else 'O'])\n",
            "            labels.append(tag_to_id[tag])\n",
        ),
        "continuation pieces ignored (-100), the other convention": _align(
            "            tag = word_tags[word_id]\n"
            "            labels.append(tag_to_id['I-' + tag[2:] if tag != 'O' else 'O'])\n",
            "            labels.append(-100)\n",
        ),
        "special tokens tagged O": _align(
            "            labels.append(-100)\n", "            labels.append(tag_to_id['O'])\n"
        ),
        "word ids counted from 1 (as if [CLS] were a word)": _align(
            "tag_to_id[word_tags[word_id]]", "tag_to_id[word_tags[word_id - 1]]"
        ).replace("tag = word_tags[word_id]", "tag = word_tags[word_id - 1]"),
        "tag ids hard-coded (O=0, B=odd, I=even) instead of tag_to_id": (
            "def align_labels(word_tags, word_ids, tag_to_id):\n"
            "    names = sorted({t[2:] for t in tag_to_id if t != 'O'})\n"
            "    fixed = {'O': 0}\n"
            "    for i, name in enumerate(names):\n"
            "        fixed['B-' + name], fixed['I-' + name] = 2 * i + 1, 2 * i + 2\n"
            "    labels, previous = [], None\n"
            "    for word_id in word_ids:\n"
            "        if word_id is None:\n"
            "            labels.append(-100)\n"
            "        elif word_id != previous:\n"
            "            labels.append(fixed[word_tags[word_id]])\n"
            "        else:\n"
            "            tag = word_tags[word_id]\n"
            "            labels.append(fixed['I-' + tag[2:] if tag != 'O' else 'O'])\n"
            "        previous = word_id\n"
            "    return labels\n"
        ),
        "tag strings returned instead of ids": (
            "def align_labels(word_tags, word_ids, tag_to_id):\n"
            "    labels, previous = [], None\n"
            "    for word_id in word_ids:\n"
            "        if word_id is None:\n"
            "            labels.append(-100)\n"
            "        elif word_id != previous:\n"
            "            labels.append(word_tags[word_id])\n"
            "        else:\n"
            "            tag = word_tags[word_id]\n"
            "            labels.append('I-' + tag[2:] if tag != 'O' else 'O')\n"
            "        previous = word_id\n"
            "    return labels\n"
        ),
        "a word's first piece found only after a special token": _align(
            "        elif word_id != previous:\n", "        elif previous is None:\n"
        ),
        "only the first piece of the sentence is labelled, every other piece gets I-": _align(
            "        elif word_id != previous:\n",
            "        elif word_id == 0 and previous is None:\n",
        ),
    },
    "q5_entity_f1": {
        "per token instead of per entity": (
            "def entity_f1(true_tags, pred_tags):\n"
            "    pairs = [(t, p) for ts, ps in zip(true_tags, pred_tags) for t, p in zip(ts, ps)]\n"
            "    correct = sum(t == p != 'O' for t, p in pairs)\n"
            "    predicted = sum(p != 'O' for _, p in pairs)\n"
            "    true = sum(t != 'O' for t, _ in pairs)\n"
            "    precision = correct / predicted if predicted else 0.0\n"
            "    recall = correct / true if true else 0.0\n"
            "    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0\n"
            "    return precision, recall, f1\n"
        ),
        "an I- without B- is no entity (strict IOB2, not conlleval)": _f1(
            "                if prefix in ('B', 'I') and not continues:\n",
            "                if prefix == 'B':\n",
        ),
        "an I- after another type continues the entity (type ignored inside)": _f1(
            "continues = prefix == 'I' and name == kind",
            "continues = prefix == 'I' and kind is not None",
        ),
        "precision and recall swapped": _f1(
            "    return precision, recall, f1\n", "    return recall, precision, f1\n"
        ),
        "entity types ignored (spans only)": _f1(
            "found.add((s, kind, start, i - 1))", "found.add((s, start, i - 1))"
        ),
        "sentences joined without a break (entities run across them)": _f1(
            "        for s, tags in enumerate(sentences):\n"
            "            start, kind = None, None\n"
            "            for i, tag in enumerate([*tags, 'O']):\n",
            "        s, start, kind = 0, None, None\n"
            "        if True:\n"
            "            for i, tag in enumerate([t for tags in sentences for t in tags] + ['O']):\n",
        ),
        "sentence index forgotten (same span in two sentences counts once)": _f1(
            "found.add((s, kind, start, i - 1))", "found.add((kind, start, i - 1))"
        ),
        "a start match counts (end not compared)": _f1(
            "found.add((s, kind, start, i - 1))", "found.add((s, kind, start))"
        ),
        "F1 averaged over sentences (macro) instead of pooled": (
            "def entity_f1(true_tags, pred_tags):\n"
            "    def one(true_tags, pred_tags):\n"
            + "\n".join("    " + line for line in _F1.split("\n")[1:-2] if line.strip())
            + "\n"
            "        return precision, recall, f1\n"
            "\n"
            "    rows = [one([t], [p]) for t, p in zip(true_tags, pred_tags)]\n"
            "    return tuple(float(sum(r[i] for r in rows) / len(rows)) for i in range(3))\n"
        ),
        "undefined precision returned as 1.0": _f1(
            "correct / len(predicted) if predicted else 0.0",
            "correct / len(predicted) if predicted else 1.0",
        ),
        "rule: seqeval": (
            "def entity_f1(true_tags, pred_tags):\n"
            "    m = seqeval.metrics\n"
            "    return (\n"
            "        float(m.precision_score(true_tags, pred_tags, zero_division=0)),\n"
            "        float(m.recall_score(true_tags, pred_tags, zero_division=0)),\n"
            "        float(m.f1_score(true_tags, pred_tags, zero_division=0)),\n"
            "    )\n"
        ),
    },
    "q6_finding_classifier": {
        "an untrained head": _train("    return FindingHead(mean, std).eval()\n"),
        "labels flipped": _train(
            "    return fit_head(FindingHead(mean, std), x_train, y_train, flip=True)\n"
        ),
        "labels shuffled against the reports": _train(
            "    return fit_head(FindingHead(mean, std), x_train, y_train, shuffle_labels=True)\n"
        ),
        "one output, for any finding (n, 1)": _train(
            "    head = FindingHead(mean, std)\n"
            "    head.net[-1] = nn.Linear(128, 1)\n"
            "    return fit_head(head, x_train, y_train.amax(dim=1, keepdim=True))\n"
        ),
    },
}

CORRECT = {
    "q1_wordpiece": {
        "recursive, with a while loop that shortens the candidate": (
            "def wordpiece(word, vocab, unk='[UNK]', max_chars=100):\n"
            "    if len(word) > max_chars:\n"
            "        return [unk]\n"
            "\n"
            "    def split(rest, prefix):\n"
            "        if not rest:\n"
            "            return []\n"
            "        end = len(rest)\n"
            "        while end > 0 and prefix + rest[:end] not in vocab:\n"
            "            end -= 1\n"
            "        if end == 0:\n"
            "            return None\n"
            "        tail = split(rest[end:], '##')\n"
            "        return None if tail is None else [prefix + rest[:end], *tail]\n"
            "\n"
            "    pieces = split(word, '')\n"
            "    return [unk] if pieces is None else pieces\n"
        ),
    },
    "q2_crf_log_partition": {
        "scaled forward algorithm in probability space (log of the scales summed)": (
            "def crf_log_partition(emissions, transitions, start, end):\n"
            "    shift = transitions.max()\n"
            "    trans = torch.exp(transitions - shift)\n"
            "    a = start + emissions[0]\n"
            "    log_scale = a.max()\n"
            "    alpha = torch.exp(a - log_scale)\n"
            "    for t in range(1, emissions.shape[0]):\n"
            "        e = emissions[t]\n"
            "        alpha = (alpha @ trans) * torch.exp(e - e.max())\n"
            "        total = alpha.sum()\n"
            "        alpha = alpha / total\n"
            "        log_scale = log_scale + torch.log(total) + e.max() + shift\n"
            "    last = (end + torch.log(alpha)).logsumexp(0)\n"
            "    return log_scale + last\n"
        ),
        "a matrix of all pairs per step, logaddexp-free (amax shift)": (
            "def crf_log_partition(emissions, transitions, start, end):\n"
            "    alpha = start + emissions[0]\n"
            "    for score in emissions[1:]:\n"
            "        pairs = alpha.unsqueeze(1) + transitions + score.unsqueeze(0)\n"
            "        top = pairs.amax(dim=0, keepdim=True)\n"
            "        alpha = (top + (pairs - top).exp().sum(0, keepdim=True).log()).squeeze(0)\n"
            "    final = alpha + end\n"
            "    m = final.max()\n"
            "    return m + (final - m).exp().sum().log()\n"
        ),
    },
    "q3_viterbi": {
        "Python lists and loops, back-pointers as a table": (
            "def viterbi(emissions, transitions, start, end):\n"
            "    e, tr = emissions.tolist(), transitions.tolist()\n"
            "    T, K = len(e), len(e[0])\n"
            "    delta = [float(start[k]) + e[0][k] for k in range(K)]\n"
            "    back = []\n"
            "    for t in range(1, T):\n"
            "        row, new = [], []\n"
            "        for j in range(K):\n"
            "            i = max(range(K), key=lambda i: delta[i] + tr[i][j])\n"
            "            row.append(i)\n"
            "            new.append(delta[i] + tr[i][j] + e[t][j])\n"
            "        back.append(row)\n"
            "        delta = new\n"
            "    final = [delta[k] + float(end[k]) for k in range(K)]\n"
            "    best = max(range(K), key=final.__getitem__)\n"
            "    path = [best]\n"
            "    for row in back[::-1]:\n"
            "        path.insert(0, row[path[0]])\n"
            "    return path, final[best]\n"
        ),
    },
    "q4_align_labels": {
        "a comprehension over positions": (
            "def align_labels(word_tags, word_ids, tag_to_id):\n"
            "    def label(i, w):\n"
            "        if w is None:\n"
            "            return -100\n"
            "        tag = word_tags[w]\n"
            "        if i > 0 and word_ids[i - 1] == w and tag.startswith('B-'):\n"
            "            tag = 'I-' + tag.split('-', 1)[1]\n"
            "        return tag_to_id[tag]\n"
            "\n"
            "    return [label(i, w) for i, w in enumerate(word_ids)]\n"
        ),
    },
    "q5_entity_f1": {
        "entities as lists of (type, start, end) and a Counter": (
            "import collections\n"
            "\n"
            "\n"
            "def entity_f1(true_tags, pred_tags):\n"
            "    def spans(tags):\n"
            "        out, i = [], 0\n"
            "        while i < len(tags):\n"
            "            if tags[i] == 'O':\n"
            "                i += 1\n"
            "                continue\n"
            "            kind, j = tags[i][2:], i + 1\n"
            "            while j < len(tags) and tags[j] == 'I-' + kind:\n"
            "                j += 1\n"
            "            out.append((kind, i, j))\n"
            "            i = j\n"
            "        return out\n"
            "\n"
            "    n_true = n_pred = n_ok = 0\n"
            "    for t, p in zip(true_tags, pred_tags):\n"
            "        a, b = collections.Counter(spans(t)), collections.Counter(spans(p))\n"
            "        n_true, n_pred = n_true + sum(a.values()), n_pred + sum(b.values())\n"
            "        n_ok += sum((a & b).values())\n"
            "    p = n_ok / n_pred if n_pred else 0.0\n"
            "    r = n_ok / n_true if n_true else 0.0\n"
            "    return p, r, (2 * p * r / (p + r) if p + r > 0 else 0.0)\n"
        ),
    },
    "q6_finding_classifier": {
        "a standardised linear layer, full batch, fixed steps": (
            "class LinearHead(nn.Module):\n"
            "    def __init__(self, mean, std):\n"
            "        super().__init__()\n"
            "        self.register_buffer('mean', mean)\n"
            "        self.register_buffer('std', std)\n"
            "        self.linear = nn.Linear(mean.numel(), 5)\n"
            "\n"
            "    def forward(self, x):\n"
            "        return self.linear((x - self.mean) / self.std)\n"
            "\n"
            "\n"
            "def train_finding_head(x_train, y_train, x_val, y_val, seed=SEED):\n"
            "    torch.manual_seed(seed)\n"
            "    head = LinearHead(x_train.mean(0), x_train.std(0) + 1e-6)\n"
            "    optimizer = torch.optim.AdamW(head.parameters(), lr=3e-3, weight_decay=0.1)\n"
            "    loss_fn = nn.BCEWithLogitsLoss()\n"
            "    for _ in range(200):\n"
            "        loss = loss_fn(head(x_train), y_train)\n"
            "        optimizer.zero_grad()\n"
            "        loss.backward()\n"
            "        optimizer.step()\n"
            "    return head.eval()\n" + _RUN
        ),
    },
}
