"""Chapter 8 helpers: a report vocabulary, BERT's masking rule, a small BERT and its training.

The encoder layers come from :mod:`bios740.attention` (chapter 7) and the reports from
:mod:`bios740.datasets.reports`; this file holds what notebooks 02 and 03 share. Nothing
here writes report text to disk (the reports' licence forbids redistributing derived files).

The file is longer than 300 lines because notebook 03 adds domain-adaptive pretraining on
cached states (:func:`encoder_states`, :class:`TopLayerMLM`, :func:`train_top_mlm`) to what
notebook 02 uses; the two halves share the masking rule and the pooling.
"""

from __future__ import annotations

import copy

import torch
from torch import nn
from torch.nn import functional as F
from tqdm.auto import tqdm

from bios740 import attention

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
IGNORE = -100  # label of positions the MLM loss skips (PyTorch's ignore_index)


class ReportVocabulary:
    """MiniLM's WordPiece tokens that occur in the training reports, renumbered ``0 .. V-1``.

    A small model need not carry rows for the 30,522-token general vocabulary, most of
    which never occur in chest X-ray reports. Ids 0-4 are ``[PAD] [UNK] [CLS] [SEP]
    [MASK]``, then the used tokens in MiniLM's order; a token unseen in ``texts`` becomes
    ``[UNK]``. Deterministic (unlike training a new WordPiece, whose ties vary by run).

    Args:
        tokenizer: MiniLM's tokenizer (``AutoTokenizer.from_pretrained(minilm_folder())``).
        texts: the training reports.
        max_length: tokens per report, ``[CLS]`` and ``[SEP]`` included.
    """

    def __init__(self, tokenizer, texts, max_length: int = 64):
        if isinstance(texts, str) or not len(texts):
            raise TypeError("texts must be a non-empty list of strings; wrap one text in [...]")
        if max_length < 3:
            raise ValueError(
                f"max_length must be at least 3 ([CLS], a token, [SEP]), got {max_length}"
            )
        self.tokenizer, self.max_length = tokenizer, max_length
        rows = tokenizer(list(texts), truncation=True, max_length=max_length)["input_ids"]
        general = [tokenizer.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS]
        used = sorted({i for row in rows for i in row} - set(general))
        self.lookup = torch.ones(len(tokenizer), dtype=torch.long)  # everything else: [UNK]
        self.lookup[general] = torch.arange(len(SPECIAL_TOKENS))
        self.lookup[used] = torch.arange(len(SPECIAL_TOKENS), len(SPECIAL_TOKENS) + len(used))
        self.tokens = [*SPECIAL_TOKENS, *tokenizer.convert_ids_to_tokens(used)]
        self.mask_id, self.pad_id = SPECIAL_TOKENS.index("[MASK]"), 0

    def __len__(self) -> int:
        return len(self.tokens)

    def encode(self, texts) -> tuple[torch.Tensor, torch.Tensor]:
        """Ids ``(n, max_length)`` in this vocabulary and the attention mask (1 = token)."""
        if isinstance(texts, str):
            raise TypeError("texts must be a list of strings, not one string; wrap it in [...]")
        batch = self.tokenizer(
            list(texts), truncation=True, max_length=self.max_length,
            padding="max_length", return_tensors="pt",
        )  # fmt: skip
        return self.lookup[batch["input_ids"]], batch["attention_mask"]

    def decode(self, ids) -> list[str]:
        """Tokens of a sequence of ids in this vocabulary."""
        return [self.tokens[int(i)] for i in ids]


def mask_tokens(
    input_ids: torch.Tensor,
    special: torch.Tensor,
    mask_id: int,
    vocab_size: int,
    probability: float = 0.15,
    generator: torch.Generator | None = None,
    first_random: int = len(SPECIAL_TOKENS),
) -> tuple[torch.Tensor, torch.Tensor]:
    """BERT's masking rule (Devlin et al. 2019): choose 15 %, then 80/10/10.

    Each non-special position is chosen with ``probability``; a chosen token becomes
    ``[MASK]`` with probability 0.8, a random token (ids ``first_random .. vocab_size - 1``)
    with 0.1, and stays itself with 0.1. The model must predict the original token at
    every chosen position, so it cannot learn "copy unless you see [MASK]".

    Args:
        input_ids: ``(batch, length)`` token ids.
        special: boolean ``(batch, length)``, True at [CLS], [SEP] and [PAD] (never chosen).
        mask_id, vocab_size: the id of ``[MASK]`` and the vocabulary size.

    Returns:
        ``(inputs, labels)``: the corrupted ids, and the original id at chosen positions,
        :data:`IGNORE` (-100) elsewhere.
    """
    if input_ids.shape != special.shape or input_ids.ndim != 2:
        raise ValueError(
            f"input_ids and special must be the same (batch, length) shape, got "
            f"{tuple(input_ids.shape)} and {tuple(special.shape)}"
        )
    if not 0 < probability < 1:
        raise ValueError(f"probability must be in (0, 1), got {probability}")
    if not 0 <= first_random < vocab_size:
        raise ValueError(f"need 0 <= first_random < vocab_size, got {first_random}, {vocab_size}")
    shape = input_ids.shape
    chosen = (torch.rand(shape, generator=generator) < probability) & ~special.bool()
    draw = torch.rand(shape, generator=generator)
    random_ids = torch.randint(first_random, vocab_size, shape, generator=generator)
    inputs = input_ids.clone()
    inputs[chosen & (draw < 0.8)] = mask_id
    swap = chosen & (draw >= 0.8) & (draw < 0.9)
    inputs[swap] = random_ids[swap]
    labels = torch.where(chosen, input_ids, torch.full_like(input_ids, IGNORE))
    return inputs, labels


class SmallBert(nn.Module):
    """A small BERT: embeddings, the chapter-7 encoder stack, a masked-LM head.

    Embeddings: token + learned position, then LayerNorm and dropout (BERT also adds a
    segment embedding; one segment per report makes it a constant, left out). Encoder:
    post-norm :class:`bios740.attention.TransformerEncoderLayer` with GELU, as in BERT.
    MLM head: dense, GELU, LayerNorm, then a decoder tied to the token embeddings plus a
    bias per token. Post-norm, its weights copied into ``transformers.BertForMaskedLM``
    give the same logits (notebook 02 checks this).
    """

    def __init__(
        self,
        vocab_size: int,
        max_length: int = 64,
        d_model: int = 64,
        n_heads: int = 4,
        n_layers: int = 2,
        dim_feedforward: int = 256,
        dropout: float = 0.1,
        pad_id: int = 0,
        layer_norm_eps: float = 1e-12,
        norm_first: bool = False,
        positions: str = "learned",
    ):
        super().__init__()
        if vocab_size < 2 or n_layers < 1:
            raise ValueError(
                f"need vocab_size >= 2 and n_layers >= 1, got {vocab_size}, {n_layers}"
            )
        if positions not in ("learned", "sinusoidal"):
            raise ValueError(f"positions must be 'learned' or 'sinusoidal', got {positions!r}")
        self.vocab_size, self.max_length, self.pad_id = vocab_size, max_length, pad_id
        self.token_embedding = nn.Embedding(vocab_size, d_model)
        nn.init.normal_(self.token_embedding.weight, std=0.02)
        self.positions = (
            attention.LearnedPositionalEncoding(d_model, max_length)
            if positions == "learned"
            else attention.SinusoidalPositionalEncoding(d_model, max_length)
        )
        self.embedding_norm = nn.LayerNorm(d_model, eps=layer_norm_eps)
        self.dropout = nn.Dropout(dropout)
        self.layers = nn.ModuleList(
            attention.TransformerEncoderLayer(
                d_model, n_heads, dim_feedforward, dropout, "gelu", norm_first, layer_norm_eps
            )
            for _ in range(n_layers)
        )
        # pre-norm stacks end with a LayerNorm (post-norm layers already end with one)
        self.final_norm = nn.LayerNorm(d_model, eps=layer_norm_eps) if norm_first else nn.Identity()
        self.transform = nn.Linear(d_model, d_model)
        self.transform_norm = nn.LayerNorm(d_model, eps=layer_norm_eps)
        self.decoder_bias = nn.Parameter(torch.zeros(vocab_size))

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Hidden states ``(batch, length, d_model)``; ``attention_mask`` 1 = real token."""
        if input_ids.ndim != 2 or input_ids.shape[1] > self.max_length:
            raise ValueError(
                f"expected token ids (batch, length <= {self.max_length}), got "
                f"{tuple(input_ids.shape)}; truncate with encode(..., max_length)"
            )
        if attention_mask is None:
            attention_mask = input_ids != self.pad_id
        x = self.dropout(self.embedding_norm(self.positions(self.token_embedding(input_ids))))
        padding = ~attention_mask.bool()
        for layer in self.layers:
            x = layer(x, key_padding_mask=padding)
        return self.final_norm(x)

    def mlm_logits(self, hidden: torch.Tensor) -> torch.Tensor:
        """Scores over the vocabulary ``(..., vocab_size)`` for hidden states ``(..., d_model)``."""
        h = self.transform_norm(F.gelu(self.transform(hidden)))
        return h @ self.token_embedding.weight.T + self.decoder_bias


def mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Average of the hidden states ``(batch, length, d)`` over real tokens -> ``(batch, d)``."""
    if hidden.shape[:2] != attention_mask.shape:
        raise ValueError(
            f"hidden {tuple(hidden.shape)} and attention_mask {tuple(attention_mask.shape)} "
            "must share (batch, length)"
        )
    weights = attention_mask.to(hidden.dtype).unsqueeze(-1)
    return (hidden * weights).sum(1) / weights.sum(1).clamp(min=1.0)


def mlm_loss(model: SmallBert, inputs, labels, attention_mask) -> torch.Tensor:
    """Mean cross-entropy (nats) over the chosen positions; the head runs only there."""
    chosen = labels != IGNORE
    if not chosen.any():
        raise ValueError("no position was chosen for prediction; use longer or more texts")
    hidden = model(inputs, attention_mask)[chosen]
    return F.cross_entropy(model.mlm_logits(hidden), labels[chosen])


def pretrain_mlm(
    model: SmallBert,
    ids: torch.Tensor,
    attention_mask: torch.Tensor,
    special: torch.Tensor,
    mask_id: int,
    val: tuple[torch.Tensor, torch.Tensor] | None = None,
    steps: int = 300,
    batch_size: int = 32,
    lr: float = 2e-3,
    eval_every: int = 25,
    seed: int = 0,
) -> dict:
    """Masked-language-model pretraining with AdamW, linear warm-up and decay.

    Every batch gets fresh masks (dynamic masking, as in RoBERTa) and is cut to its
    longest report (columns of padding only cost time). ``val`` is
    ``(masked inputs, labels)`` fixed once, so the held-out loss is comparable across
    steps.

    Returns:
        ``{"step": [...], "train_loss": [...], "val_step": [...], "val_loss": [...]}``,
        losses in nats per predicted token (``val_step`` starts at 0, before training).
    """
    if steps < 1 or batch_size < 1:
        raise ValueError(f"steps and batch_size must be positive, got {steps}, {batch_size}")
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    warmup = max(1, steps // 10)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (steps - s) / (steps - warmup + 1)))
    )
    history = {"step": [], "train_loss": [], "val_step": [], "val_loss": []}

    def evaluate(step):
        if val is not None:
            model.eval()
            with torch.no_grad():
                loss = mlm_loss(model, val[0], val[1], val[0] != model.pad_id)
            history["val_step"].append(step)
            history["val_loss"].append(float(loss))
            model.train()

    evaluate(0)
    model.train()
    order = torch.randperm(len(ids), generator=generator)
    cursor = 0
    for step in tqdm(range(1, steps + 1), desc="MLM pretraining"):
        if cursor + batch_size > len(ids):
            order, cursor = torch.randperm(len(ids), generator=generator), 0
        rows = order[cursor : cursor + batch_size]
        cursor += batch_size
        width = int(attention_mask[rows].sum(1).max())  # drop all-padding columns: faster
        inputs, labels = mask_tokens(
            ids[rows, :width], special[rows, :width], mask_id, model.vocab_size, generator=generator
        )
        loss = mlm_loss(model, inputs, labels, attention_mask[rows, :width])
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        history["step"].append(step)
        history["train_loss"].append(loss.item())
        if step % eval_every == 0 or step == steps:
            evaluate(step)
    return history


def unigram_loss(train_ids: torch.Tensor, labels: torch.Tensor, vocab_size: int) -> float:
    """Cross-entropy (nats) of predicting every masked token by its training frequency.

    The no-context baseline of a masked-LM loss (add-one smoothing); a model that learns
    nothing from the context cannot beat it.
    """
    counts = torch.bincount(train_ids[train_ids >= len(SPECIAL_TOKENS)], minlength=vocab_size)
    log_p = torch.log((counts.double() + 1) / (counts.sum() + vocab_size))
    targets = labels[labels != IGNORE]
    if targets.numel() == 0:
        raise ValueError("labels hold no chosen position")
    return float(-log_p[targets].mean())


def _additive_mask(attention_mask: torch.Tensor) -> torch.Tensor:
    """A (batch, 1, 1, length) mask to add to attention scores: 0 at tokens, -inf-ish at [PAD]."""
    return (1.0 - attention_mask[:, None, None, :].float()) * torch.finfo(torch.float32).min


@torch.no_grad()
def by_length(run, inputs: torch.Tensor, attention_mask: torch.Tensor, batch_size: int = 100):
    """``run(inputs[rows, :w], attention_mask[rows, :w])`` over batches of similar length.

    Reports are sorted by their number of real tokens and each batch is cut to its longest
    one, so that a batch of short reports does not pay for padding (about a quarter of
    the time on the Open-i reports padded to 64 tokens). ``run`` returns
    ``(batch, w, d)`` states; the result is ``(N, length, d)`` in the original order,
    with zeros at padding positions (a padding position's state means nothing anyway:
    no real token attends to it, and mean pooling skips it).
    """
    if attention_mask.ndim != 2 or inputs.shape[:2] != attention_mask.shape:
        raise ValueError(
            f"inputs {tuple(inputs.shape)} and attention_mask {tuple(attention_mask.shape)} "
            "must start with the same (batch, length)"
        )
    if batch_size < 1:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    lengths = attention_mask.sum(1)
    order = torch.argsort(lengths, stable=True)
    out = None
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        width = max(1, int(lengths[rows].max()))
        h = run(inputs[rows, :width], attention_mask[rows, :width])
        if out is None:
            out = h.new_zeros((len(inputs), attention_mask.shape[1], h.shape[-1]))
        out[rows, :width] = h * attention_mask[rows, :width, None].to(h.dtype)
    return out


def encoder_states(bert, input_ids, attention_mask, n_layers=None, batch_size: int = 100):
    """Hidden states of a ``transformers`` BERT after its embeddings and first ``n_layers`` layers.

    Notebook 03 runs MiniLM's bottom layers once and caches the result, so that training
    the top layer costs one layer per step, not six. ``n_layers=None``: all layers.
    Batches are formed by length (:func:`by_length`): padding positions come back as zeros.
    """
    layers = bert.encoder.layer
    n_layers = len(layers) if n_layers is None else n_layers
    if not 0 <= n_layers <= len(layers):
        raise ValueError(f"n_layers must be in 0..{len(layers)}, got {n_layers}")
    if input_ids.shape != attention_mask.shape or input_ids.ndim != 2:
        raise ValueError(
            f"input_ids {tuple(input_ids.shape)} and attention_mask "
            f"{tuple(attention_mask.shape)} must be the same (batch, length) shape"
        )

    def bottom(ids, mask):
        h = bert.embeddings(input_ids=ids)
        additive = _additive_mask(mask)
        for layer in layers[:n_layers]:
            h = layer(h, attention_mask=additive)
            h = h[0] if isinstance(h, tuple) else h
        return h

    return by_length(bottom, input_ids, attention_mask, batch_size)


class TopLayerMLM(nn.Module):
    """A trainable copy of a BERT's top layer and a fresh MLM head over a subset of tokens.

    Runs on cached states of the layers below (:func:`encoder_states`). The head is BERT's
    (dense, GELU, LayerNorm, dot product with the frozen token embeddings, a bias), but its
    softmax covers only ``token_ids`` (the tokens occurring in the reports), which makes
    each step cheaper and the loss that of a ``len(token_ids)``-way choice.

    Args:
        layer: the top ``BertLayer`` (copied; the original is left unchanged).
        embeddings: the ``(vocab, d)`` token embedding matrix (not trained).
        token_ids: ids (in the model's vocabulary) the head scores.
    """

    def __init__(self, layer: nn.Module, embeddings: torch.Tensor, token_ids: torch.Tensor):
        super().__init__()
        token_ids = torch.as_tensor(token_ids, dtype=torch.long)
        if token_ids.ndim != 1 or not len(token_ids) or token_ids.max() >= len(embeddings):
            raise ValueError(
                f"token_ids must be a non-empty 1-D list of ids below {len(embeddings)}"
            )
        d_model = embeddings.shape[1]
        self.layer = copy.deepcopy(layer)
        self.register_buffer("embeddings", embeddings.detach()[token_ids].clone())
        self.transform = nn.Linear(d_model, d_model)
        self.transform_norm = nn.LayerNorm(d_model, eps=1e-12)
        self.decoder_bias = nn.Parameter(torch.zeros(len(token_ids)))
        self.index = torch.full((len(embeddings),), IGNORE, dtype=torch.long)
        self.index[token_ids] = torch.arange(len(token_ids))

    def forward(self, states: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """The top layer's output for cached input states ``(batch, length, d)``."""
        h = self.layer(states, attention_mask=_additive_mask(attention_mask))
        return h[0] if isinstance(h, tuple) else h

    @torch.no_grad()
    def encode(self, states: torch.Tensor, attention_mask: torch.Tensor, batch_size: int = 100):
        """:meth:`forward` for many reports, in batches by length, without gradients."""
        return by_length(self.forward, states, attention_mask, batch_size)

    def logits(self, hidden: torch.Tensor) -> torch.Tensor:
        """Scores ``(..., len(token_ids))`` for hidden states ``(..., d)``."""
        h = self.transform_norm(F.gelu(self.transform(hidden)))
        return h @ self.embeddings.T + self.decoder_bias

    def targets(self, labels: torch.Tensor) -> torch.Tensor:
        """MLM labels in the model's vocabulary -> positions in ``token_ids`` (others IGNORE)."""
        chosen = labels != IGNORE
        out = torch.full_like(labels, IGNORE)
        out[chosen] = self.index[labels[chosen]]
        return out

    def loss(self, states, attention_mask, targets) -> torch.Tensor:
        """Mean cross-entropy (nats) over the positions whose target is not IGNORE."""
        return self.head_loss(self(states, attention_mask), targets)

    def head_loss(self, hidden, targets) -> torch.Tensor:
        """:meth:`loss` from the top layer's output ``hidden`` (the head's part only)."""
        chosen = targets != IGNORE
        if not chosen.any():
            raise ValueError("no target to predict; map labels with targets() first")
        return F.cross_entropy(self.logits(hidden[chosen]), targets[chosen])


def train_top_mlm(
    model: TopLayerMLM,
    states: torch.Tensor,
    attention_mask: torch.Tensor,
    targets: torch.Tensor,
    val: tuple | None = None,
    train_layer: bool = True,
    steps: int = 150,
    batch_size: int = 32,
    lr: float = 1e-4,
    head_lr: float = 1e-3,
    eval_every: int = 25,
    seed: int = 0,
) -> dict:
    """Masked-LM training of the head, and of the top layer if ``train_layer``, on cached states.

    The masks are fixed (they were applied before the states were cached). AdamW; the
    pretrained layer gets the smaller ``lr``, the fresh head ``head_lr``. With
    ``train_layer=False`` the frozen layer's output is computed once, in eval mode (no
    dropout, as for any frozen feature extractor), and only the head trains. ``val`` is
    ``(states, attention_mask, targets)``. Returns ``{"val_step": [...], "val_loss": [...]}``
    (nats per hidden token; ``val_step`` starts at 0, before training).
    """
    if steps < 1 or batch_size < 1:
        raise ValueError(f"steps and batch_size must be positive, got {steps}, {batch_size}")
    model.layer.requires_grad_(train_layer)
    head = [*model.transform.parameters(), *model.transform_norm.parameters(), model.decoder_bias]
    groups = [{"params": head, "lr": head_lr}]
    if train_layer:
        groups.append({"params": list(model.layer.parameters()), "lr": lr})
    optimizer = torch.optim.AdamW(groups, weight_decay=0.01)
    generator = torch.Generator().manual_seed(seed)
    history = {"val_step": [], "val_loss": []}

    if not train_layer:  # the layer never changes: run it once instead of at every step
        model.eval()
        frozen = model.encode(states, attention_mask)
        frozen_val = None if val is None else model.encode(val[0], val[1])

    def evaluate(step):
        if val is not None:
            model.eval()
            with torch.no_grad():
                loss = model.loss(*val) if train_layer else model.head_loss(frozen_val, val[2])
            history["val_loss"].append(float(loss))
            history["val_step"].append(step)

    evaluate(0)
    for step in tqdm(range(1, steps + 1), desc="top-layer MLM"):
        model.train()
        rows = torch.randint(0, len(states), (batch_size,), generator=generator)
        if train_layer:
            loss = model.loss(states[rows], attention_mask[rows], targets[rows])
        else:
            loss = model.head_loss(frozen[rows], targets[rows])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % eval_every == 0 or step == steps:
            evaluate(step)
    model.eval()
    return history
