"""Attention and the transformer encoder written out, small enough to read in one sitting.

Chapter 7 builds these pieces step by step and checks each against PyTorch; chapter 8
(BioBERT) reuses them. Every module here computes exactly what its PyTorch counterpart
computes for the same weights (tests/test_attention.py checks to 1e-6):

===============================  ============================================
here                             PyTorch
===============================  ============================================
:func:`scaled_dot_product_attention`  ``torch.nn.functional.scaled_dot_product_attention``
:class:`MultiHeadAttention`      ``torch.nn.MultiheadAttention(batch_first=True)``
:class:`TransformerEncoderLayer` ``torch.nn.TransformerEncoderLayer(batch_first=True)``
===============================  ============================================

Parameter names follow PyTorch's (``in_proj_weight``, ``out_proj``, ``linear1``,
``norm1``...), so ``mine.load_state_dict(theirs.state_dict())`` copies weights across.

Masks. A boolean ``attn_mask`` here means **True = may attend** (the convention of
``scaled_dot_product_attention``); a float mask is added to the scores (``-inf`` blocks).
``key_padding_mask`` means **True = padding, ignore this key**, as in PyTorch's modules.
Note that ``nn.MultiheadAttention`` reads a boolean ``attn_mask`` the other way round
(True = blocked); pass ``~mask`` when you hand the same mask to it.

Shapes are batch first: ``(batch, length, d_model)``; attention weights are
``(batch, heads, query length, key length)``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "scaled_dot_product_attention",
    "causal_mask",
    "padding_mask",
    "split_heads",
    "merge_heads",
    "MultiHeadAttention",
    "sinusoidal_positional_encoding",
    "SinusoidalPositionalEncoding",
    "LearnedPositionalEncoding",
    "TransformerEncoderLayer",
    "TransformerEncoder",
    "encoder_flops",
]


def _additive(mask: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """A boolean mask (True = attend) as 0 / -inf; a float mask unchanged."""
    if not isinstance(mask, torch.Tensor):
        raise TypeError(f"a mask must be a tensor, not {type(mask).__name__}")
    if mask.dtype == torch.bool:
        return torch.zeros(mask.shape, dtype=dtype, device=mask.device).masked_fill(
            ~mask, float("-inf")
        )
    return mask.to(dtype)


def _check_mask(mask: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
    """Check that a mask fits the scores and return it in additive form."""
    additive = _additive(mask, scores.dtype)
    try:
        torch.broadcast_shapes(additive.shape, scores.shape)
    except RuntimeError as error:
        raise ValueError(
            f"mask of shape {tuple(mask.shape)} does not broadcast to the attention scores "
            f"{tuple(scores.shape)} (..., query length, key length)"
        ) from error
    return additive


def scaled_dot_product_attention(
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attn_mask: torch.Tensor | None = None,
    is_causal: bool = False,
    scale: float | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """softmax(Q Kᵀ / √d + mask) V, returning the output and the attention weights.

    Args:
        query: ``(..., L, d)``.
        key: ``(..., S, d)``.
        value: ``(..., S, d_v)``.
        attn_mask: boolean (True = query may attend to key) or float (added to the
            scores) tensor broadcastable to ``(..., L, S)``.
        is_causal: also block every key after the query's own position.
        scale: factor on the scores; default ``1 / sqrt(d)``.

    Returns:
        ``(output (..., L, d_v), weights (..., L, S))``; each row of ``weights`` sums to 1.

    Raises:
        ValueError: if the last dimensions of query and key differ, key and value have
            different lengths, or the mask does not fit.
    """
    if query.shape[-1] != key.shape[-1]:
        raise ValueError(
            f"query and key need the same feature size, got {query.shape[-1]} and {key.shape[-1]}"
        )
    if key.shape[-2] != value.shape[-2]:
        raise ValueError(
            f"key and value need the same length, got {key.shape[-2]} and {value.shape[-2]}"
        )
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = query @ key.transpose(-2, -1) * scale
    if is_causal:
        allowed = causal_mask(query.shape[-2], key.shape[-2], device=query.device)
        scores = scores + _check_mask(allowed, scores)
    if attn_mask is not None:
        scores = scores + _check_mask(attn_mask, scores)
    weights = torch.softmax(scores, dim=-1)
    return weights @ value, weights


def causal_mask(
    length: int, key_length: int | None = None, device: torch.device | None = None
) -> torch.Tensor:
    """Boolean ``(length, key_length)`` mask, True where key position ≤ query position.

    Position ``i`` may attend to ``0..i`` and never to ``i + 1`` onwards (the decoder of a
    sequence-to-sequence model must not read the token it is about to predict).
    """
    key_length = length if key_length is None else key_length
    if length < 1 or key_length < 1:
        raise ValueError(f"lengths must be positive, got {length} and {key_length}")
    return torch.ones(length, key_length, dtype=torch.bool, device=device).tril()


def padding_mask(lengths: torch.Tensor | list[int], max_length: int | None = None) -> torch.Tensor:
    """Boolean ``(batch, max_length)`` key-padding mask, True at padded positions.

    Args:
        lengths: the true length of each sequence in the batch.
        max_length: padded length (default: the longest sequence).

    Returns:
        ``mask[b, s]`` is True for ``s >= lengths[b]``, the convention of PyTorch's
        ``key_padding_mask``.
    """
    lengths = torch.as_tensor(lengths)
    if lengths.ndim != 1 or (lengths < 1).any():
        raise ValueError("lengths must be a 1-D list of positive integers")
    max_length = int(lengths.max()) if max_length is None else max_length
    if int(lengths.max()) > max_length:
        raise ValueError(f"a length {int(lengths.max())} exceeds max_length {max_length}")
    return torch.arange(max_length, device=lengths.device)[None, :] >= lengths[:, None]


def split_heads(x: torch.Tensor, n_heads: int) -> torch.Tensor:
    """``(batch, length, d_model)`` → ``(batch, heads, length, d_model / heads)``.

    The feature axis is cut into ``n_heads`` consecutive blocks; positions are never mixed.
    """
    batch, length, d_model = x.shape
    if d_model % n_heads:
        raise ValueError(f"d_model {d_model} is not divisible by n_heads {n_heads}")
    return x.reshape(batch, length, n_heads, d_model // n_heads).transpose(1, 2)


def merge_heads(x: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`split_heads`: ``(batch, heads, length, d)`` → ``(batch, length, heads·d)``."""
    batch, heads, length, d_head = x.shape
    return x.transpose(1, 2).reshape(batch, length, heads * d_head)


class MultiHeadAttention(nn.Module):
    """Multi-head attention, the computation of ``nn.MultiheadAttention(batch_first=True)``.

    ``Q, K, V = x W_qᵀ, x W_kᵀ, x W_vᵀ`` (stacked in ``in_proj_weight``, shape
    ``(3·d_model, d_model)``), each split into ``n_heads`` heads; attention per head;
    heads concatenated and mixed by ``out_proj``. The forward pass returns the output
    and the per-head weights ``(batch, heads, L, S)`` (PyTorch averages them over heads
    unless ``average_attn_weights=False``).

    Args:
        d_model: feature size of the input and the output.
        n_heads: number of heads; must divide ``d_model``.
        dropout: dropout on the attention weights (training only).
        bias: use biases in the projections.
    """

    def __init__(self, d_model: int, n_heads: int, dropout: float = 0.0, bias: bool = True):
        super().__init__()
        if d_model % n_heads:
            raise ValueError(f"d_model {d_model} is not divisible by n_heads {n_heads}")
        self.d_model, self.n_heads, self.dropout = d_model, n_heads, dropout
        self.in_proj_weight = nn.Parameter(torch.empty(3 * d_model, d_model))
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * d_model)) if bias else None
        self.out_proj = nn.Linear(d_model, d_model, bias=bias)
        nn.init.xavier_uniform_(self.in_proj_weight)  # PyTorch's initialization
        if bias:
            nn.init.zeros_(self.out_proj.bias)

    def forward(
        self,
        query: torch.Tensor,
        key: torch.Tensor | None = None,
        value: torch.Tensor | None = None,
        key_padding_mask: torch.Tensor | None = None,
        attn_mask: torch.Tensor | None = None,
        is_causal: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Attend from ``query`` to ``key``/``value`` (self-attention when they are omitted).

        Args:
            query: ``(batch, L, d_model)``.
            key, value: ``(batch, S, d_model)``; default ``query``.
            key_padding_mask: ``(batch, S)`` boolean, True at padding keys.
            attn_mask: ``(L, S)`` boolean (True = may attend) or float mask.
            is_causal: block keys after each query position.

        Returns:
            ``(output (batch, L, d_model), weights (batch, heads, L, S))``.
        """
        key = query if key is None else key
        value = key if value is None else value
        if query.ndim != 3 or query.shape[-1] != self.d_model:
            raise ValueError(
                f"expected query (batch, length, {self.d_model}), got {tuple(query.shape)}"
            )
        w_q, w_k, w_v = self.in_proj_weight.chunk(3)
        b_q, b_k, b_v = (None,) * 3 if self.in_proj_bias is None else self.in_proj_bias.chunk(3)
        q = split_heads(F.linear(query, w_q, b_q), self.n_heads)
        k = split_heads(F.linear(key, w_k, b_k), self.n_heads)
        v = split_heads(F.linear(value, w_v, b_v), self.n_heads)
        mask = None if attn_mask is None else _additive(attn_mask, q.dtype)
        if key_padding_mask is not None:
            if key_padding_mask.shape != (key.shape[0], key.shape[1]):
                raise ValueError(
                    f"key_padding_mask must be (batch, key length) = {tuple(key.shape[:2])}, "
                    f"got {tuple(key_padding_mask.shape)}"
                )
            padding = _additive(~key_padding_mask.to(torch.bool), q.dtype)[:, None, None, :]
            mask = padding if mask is None else mask + padding
        out, weights = scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=is_causal)
        if self.training and self.dropout > 0:
            weights = F.dropout(weights, self.dropout)
            out = weights @ v
        return self.out_proj(merge_heads(out)), weights


def sinusoidal_positional_encoding(
    length: int, d_model: int, base: float = 10000.0, dtype: torch.dtype = torch.float32
) -> torch.Tensor:
    """The fixed encoding of Vaswani et al. (2017), shape ``(length, d_model)``.

    ``PE[p, 2i] = sin(p / base^(2i/d_model))`` and ``PE[p, 2i+1] = cos(p / base^(2i/d_model))``:
    pairs of features rotate at geometrically spaced frequencies, so a fixed linear map
    takes ``PE[p]`` to ``PE[p + k]`` for every ``p`` (relative offsets are easy to read).
    """
    if length < 1 or d_model < 2 or d_model % 2:
        raise ValueError(f"need length >= 1 and an even d_model >= 2, got {length}, {d_model}")
    position = torch.arange(length, dtype=torch.float64)[:, None]
    frequency = base ** (-torch.arange(0, d_model, 2, dtype=torch.float64) / d_model)
    encoding = torch.zeros(length, d_model, dtype=torch.float64)
    encoding[:, 0::2] = torch.sin(position * frequency)
    encoding[:, 1::2] = torch.cos(position * frequency)
    return encoding.to(dtype)


class SinusoidalPositionalEncoding(nn.Module):
    """Add :func:`sinusoidal_positional_encoding` to ``(batch, length, d_model)`` inputs."""

    def __init__(self, d_model: int, max_length: int = 4096, base: float = 10000.0):
        super().__init__()
        self.register_buffer(
            "encoding", sinusoidal_positional_encoding(max_length, d_model, base), persistent=False
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[1] > self.encoding.shape[0]:
            raise ValueError(f"sequence length {x.shape[1]} > max_length {self.encoding.shape[0]}")
        return x + self.encoding[: x.shape[1]].to(x.dtype)


class LearnedPositionalEncoding(nn.Module):
    """Add a trained vector per position (as in BERT); cannot go past ``max_length``."""

    def __init__(self, d_model: int, max_length: int):
        super().__init__()
        self.embedding = nn.Embedding(max_length, d_model)
        nn.init.normal_(self.embedding.weight, std=0.02)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[1] > self.embedding.num_embeddings:
            raise ValueError(
                f"sequence length {x.shape[1]} > max_length {self.embedding.num_embeddings}: "
                "learned positions exist only for lengths seen when the model was built"
            )
        return x + self.embedding.weight[: x.shape[1]]


class TransformerEncoderLayer(nn.Module):
    """Self-attention and a feed-forward network, each with a residual and a LayerNorm.

    Post-norm (``norm_first=False``, the original transformer):
    ``x = norm1(x + attn(x)); x = norm2(x + ff(x))``. Pre-norm (``norm_first=True``,
    trains more stably when deep): ``x = x + attn(norm1(x)); x = x + ff(norm2(x))``.
    Matches ``nn.TransformerEncoderLayer(batch_first=True)`` for the same weights. After
    each forward pass ``self.attention_weights`` holds the last ``(batch, heads, L, L)``
    weights (detached), which chapter 7 reads to draw attention maps.
    """

    def __init__(
        self,
        d_model: int,
        n_heads: int,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: str = "relu",
        norm_first: bool = False,
        layer_norm_eps: float = 1e-5,
    ):
        super().__init__()
        if activation not in ("relu", "gelu"):
            raise ValueError(f"activation must be 'relu' or 'gelu', got {activation!r}")
        self.self_attn = MultiHeadAttention(d_model, n_heads, dropout=dropout)
        self.linear1 = nn.Linear(d_model, dim_feedforward)
        self.linear2 = nn.Linear(dim_feedforward, d_model)
        self.norm1 = nn.LayerNorm(d_model, eps=layer_norm_eps)
        self.norm2 = nn.LayerNorm(d_model, eps=layer_norm_eps)
        self.dropout = nn.Dropout(dropout)
        self.activation = F.relu if activation == "relu" else F.gelu
        self.norm_first = norm_first
        self.attention_weights: torch.Tensor | None = None

    def _attend(self, x, key_padding_mask, attn_mask, is_causal):
        out, weights = self.self_attn(
            x, key_padding_mask=key_padding_mask, attn_mask=attn_mask, is_causal=is_causal
        )
        self.attention_weights = weights.detach()
        return self.dropout(out)

    def _feed_forward(self, x):
        return self.dropout(self.linear2(self.dropout(self.activation(self.linear1(x)))))

    def forward(
        self,
        x: torch.Tensor,
        key_padding_mask: torch.Tensor | None = None,
        attn_mask: torch.Tensor | None = None,
        is_causal: bool = False,
    ) -> torch.Tensor:
        """``(batch, L, d_model)`` → ``(batch, L, d_model)``; masks as in :class:`MultiHeadAttention`."""
        if self.norm_first:
            x = x + self._attend(self.norm1(x), key_padding_mask, attn_mask, is_causal)
            return x + self._feed_forward(self.norm2(x))
        x = self.norm1(x + self._attend(x, key_padding_mask, attn_mask, is_causal))
        return self.norm2(x + self._feed_forward(x))


class TransformerEncoder(nn.Module):
    """A stack of :class:`TransformerEncoderLayer` (with a final LayerNorm when pre-norm).

    Args:
        n_layers: number of layers.
        d_model, n_heads, dim_feedforward, dropout, activation, norm_first: as in
            :class:`TransformerEncoderLayer`.
    """

    def __init__(
        self,
        n_layers: int,
        d_model: int,
        n_heads: int,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: str = "relu",
        norm_first: bool = False,
    ):
        super().__init__()
        if n_layers < 1:
            raise ValueError(f"n_layers must be at least 1, got {n_layers}")
        self.layers = nn.ModuleList(
            TransformerEncoderLayer(
                d_model, n_heads, dim_feedforward, dropout, activation, norm_first
            )
            for _ in range(n_layers)
        )
        self.norm = nn.LayerNorm(d_model) if norm_first else nn.Identity()

    def forward(
        self,
        x: torch.Tensor,
        key_padding_mask: torch.Tensor | None = None,
        attn_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x, key_padding_mask=key_padding_mask, attn_mask=attn_mask)
        return self.norm(x)

    def attention_maps(self) -> list[torch.Tensor]:
        """Each layer's last attention weights ``(batch, heads, L, L)``."""
        return [layer.attention_weights for layer in self.layers]


def encoder_flops(length: int, d_model: int, dim_feedforward: int) -> dict[str, int]:
    """Multiply-adds of one encoder layer on one sequence, by part (biases, norms ignored).

    Projections ``4·L·d²`` and feed-forward ``2·L·d·d_ff`` grow linearly with the length
    ``L``; the scores ``Q Kᵀ`` and the weighted sum ``A V`` cost ``2·L²·d``, quadratic.
    """
    if min(length, d_model, dim_feedforward) < 1:
        raise ValueError("length, d_model and dim_feedforward must be positive")
    return {
        "projections": 4 * length * d_model**2,
        "attention": 2 * length**2 * d_model,
        "feed_forward": 2 * length * d_model * dim_feedforward,
    }
