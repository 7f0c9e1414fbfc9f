"""Chapter 7 helpers: DNA models (transformer, DeepBind-style CNN), baselines, metrics, ISM.

The attention and encoder code itself lives in :mod:`bios740.attention` (chapter 8
reuses it) and the data in :mod:`bios740.datasets.dna`; this file holds what several
chapter-7 notebooks and the homework share.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from bios740 import attention
from bios740.datasets import dna
from bios740.stats import paired_bootstrap
from bios740.training import fit, predict


def kmer_tokens(codes: torch.Tensor | np.ndarray, k: int = 3) -> torch.Tensor:
    """Overlapping k-mer token ids ``(n, L - k + 1)`` in ``0 .. 4**k - 1`` from base codes ``(n, L)``.

    Token ``t`` covers bases ``t .. t + k - 1`` (DNABERT-style tokenization; ``k = 1`` is
    one token per base).
    """
    codes = torch.as_tensor(np.asarray(codes), dtype=torch.long)
    if codes.ndim != 2 or codes.shape[1] < k or k < 1:
        raise ValueError(
            f"need base codes (n, length >= k) and k >= 1, got {tuple(codes.shape)}, k={k}"
        )
    if codes.min() < 0 or codes.max() > 3:
        raise ValueError("base codes must be 0..3 (A, C, G, T); use dna.encode")
    length = codes.shape[1] - k + 1
    tokens = torch.zeros(codes.shape[0], length, dtype=torch.long)
    for offset in range(k):
        tokens = tokens * 4 + codes[:, offset : offset + length]
    return tokens


class DNATransformer(nn.Module):
    """Convolutional tokens + positions + transformer encoder + mean pooling + linear head.

    Tokens: a convolution of width ``k`` over the one-hot sequence embeds every
    overlapping k-mer (the same as a lookup table of k-mer embeddings followed by a
    nonlinearity), then max pooling by ``pool`` merges neighbouring k-mers into one
    token, so the encoder sees ``T = length // pool`` tokens and attention costs ``T²``.
    ``k = 1, pool = 1`` is one token per base. Input base codes ``(batch, length)``;
    output one logit per sequence ``(batch,)``. After a forward pass
    ``model.attention_maps()`` returns each layer's ``(batch, heads, T, T)`` weights.

    Args:
        length: input length in bases (a multiple of ``pool``).
        k: width of the k-mer convolution.
        pool: bases per token.
        d_model, n_heads, n_layers, dim_feedforward, dropout: encoder size.
        positions: ``"learned"``, ``"sinusoidal"`` or ``"none"`` (permutation-equivariant).
    """

    def __init__(
        self,
        length: int,
        k: int = 7,
        pool: int = 4,
        d_model: int = 32,
        n_heads: int = 4,
        n_layers: int = 2,
        dim_feedforward: int = 64,
        dropout: float = 0.1,
        positions: str = "learned",
    ):
        super().__init__()
        if positions not in ("learned", "sinusoidal", "none"):
            raise ValueError(
                f"positions must be 'learned', 'sinusoidal' or 'none', got {positions!r}"
            )
        if length % pool:
            raise ValueError(f"length {length} must be a multiple of pool {pool}")
        self.length, self.pool = length, pool
        self.tokenizer = nn.Sequential(
            nn.Conv1d(4, d_model, k, padding=k // 2), nn.GELU(), nn.MaxPool1d(pool)
        )
        n_tokens = length // pool
        self.positions = {
            "learned": lambda: attention.LearnedPositionalEncoding(d_model, n_tokens),
            "sinusoidal": lambda: attention.SinusoidalPositionalEncoding(d_model, n_tokens),
            "none": nn.Identity,
        }[positions]()
        self.encoder = attention.TransformerEncoder(
            n_layers, d_model, n_heads, dim_feedforward, dropout, activation="gelu", norm_first=True
        )
        self.head = nn.Linear(d_model, 1)

    def tokens(self, codes: torch.Tensor) -> torch.Tensor:
        """Token embeddings ``(batch, T, d_model)`` before positions are added."""
        if codes.ndim != 2 or codes.shape[1] != self.length:
            raise ValueError(
                f"expected base codes (batch, {self.length}), got {tuple(codes.shape)}"
            )
        one_hot = nn.functional.one_hot(codes.long(), 4).float().transpose(1, 2)
        return self.tokenizer(one_hot).transpose(1, 2)

    def forward(self, codes: torch.Tensor) -> torch.Tensor:
        hidden = self.encoder(self.positions(self.tokens(codes)))
        return self.head(hidden.mean(dim=1)).squeeze(-1)

    def attention_maps(self) -> list[torch.Tensor]:
        """Each layer's attention weights from the last forward pass."""
        return self.encoder.attention_maps()


class DeepBindCNN(nn.Module):
    """One convolution (motif scanners) + global max pooling + a small dense head.

    As in DeepBind (Alipanahi et al. 2015): each filter is a learned PWM; max pooling
    keeps its best match anywhere in the sequence, so the head sees *which* motifs occur
    but not where. Input base codes ``(batch, L)``; output one logit ``(batch,)``.
    """

    def __init__(
        self, n_filters: int = 32, width: int = 15, hidden: int = 32, dropout: float = 0.1
    ):
        super().__init__()
        self.conv = nn.Conv1d(4, n_filters, width, padding=width // 2)
        self.head = nn.Sequential(
            nn.Linear(n_filters, hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, 1)
        )

    def forward(self, codes: torch.Tensor) -> torch.Tensor:
        if codes.ndim != 2:
            raise ValueError(f"expected base codes (batch, length), got {tuple(codes.shape)}")
        x = nn.functional.one_hot(codes.long(), 4).float().transpose(1, 2)
        features = torch.relu(self.conv(x)).amax(dim=2)
        return self.head(features).squeeze(-1)


def auroc(outputs: torch.Tensor, targets: torch.Tensor) -> float:
    """Area under the ROC curve of logits against 0/1 targets (for ``fit`` metrics)."""
    return float(roc_auc_score(np.asarray(targets).ravel(), np.asarray(outputs).ravel()))


def bootstrap_auroc(y_true, scores: dict, n_boot: int = 500, seed: int = 0) -> dict:
    """AUROC and a 95% bootstrap interval per model, plus paired differences to the first.

    Args:
        y_true: 0/1 labels of the test sequences.
        scores: ``{model name: scores}`` on the same sequences.

    Returns:
        ``{name: (auroc, low, high)}`` and, under ``("difference", name)``, the paired
        bootstrap interval of ``auroc(name) - auroc(first model)``.
    """
    y_true = np.asarray(y_true)
    names = list(scores)
    samples = paired_bootstrap(strict_auroc, y_true, scores, n_boot=n_boot, seed=seed)
    result = {}
    for name in names:
        low, high = np.percentile(samples[name], [2.5, 97.5])
        result[name] = (roc_auc_score(y_true, scores[name]), low, high)
        difference = samples[name] - samples[names[0]]
        result[("difference", name)] = tuple(np.percentile(difference, [50, 2.5, 97.5]))
    return result


def strict_auroc(y_true, scores) -> float:
    """AUROC that raises ValueError on one class (newer scikit-learn warns and returns NaN)."""
    y_true = np.asarray(y_true)
    if y_true.min() == y_true.max():
        raise ValueError("AUROC needs both classes")
    return float(roc_auc_score(y_true, np.asarray(scores)))


def additive_model(train_sequences, train_labels, C: float = 0.1) -> LogisticRegression:
    """The position-weight (additive) model: logistic regression on the one-hot sequence."""
    x = dna.one_hot(train_sequences).reshape(len(train_sequences), -1)
    return LogisticRegression(C=C, max_iter=2000).fit(x, train_labels)


def additive_scores(model: LogisticRegression, sequences) -> np.ndarray:
    """Logits of :func:`additive_model` for new sequences."""
    return model.decision_function(dna.one_hot(sequences).reshape(len(sequences), -1))


def kmer_features(sequences, k_max: int = 4) -> np.ndarray:
    """Concatenated 1- to ``k_max``-mer counts (the bag of k-mers)."""
    return np.concatenate([dna.kmer_counts(sequences, k) for k in range(1, k_max + 1)], axis=1)


def kmer_model(
    train_sequences, train_labels, k_max: int = 4, kind: str = "boosting", seed: int = 0
):
    """A bag-of-k-mers classifier: ``"boosting"`` (gradient-boosted trees) or ``"logistic"``."""
    x = kmer_features(train_sequences, k_max)
    if kind == "boosting":
        model = HistGradientBoostingClassifier(
            max_iter=200, learning_rate=0.1, early_stopping=True, random_state=seed
        )
    elif kind == "logistic":
        model = LogisticRegression(C=0.05, max_iter=2000)
        x = np.log1p(x)
    else:
        raise ValueError(f"kind must be 'boosting' or 'logistic', got {kind!r}")
    model.kmer_kind = kind
    return model.fit(x, train_labels)


def kmer_scores(model, sequences, k_max: int = 4) -> np.ndarray:
    """Scores of :func:`kmer_model` for new sequences."""
    x = kmer_features(sequences, k_max)
    if model.kmer_kind == "logistic":
        return model.decision_function(np.log1p(x))
    return model.predict_proba(x)[:, 1]


def loaders(sequences, labels, batch_size: int = 128, shuffle: bool = False, seed: int = 0):
    """A DataLoader of (base codes, float labels)."""
    x = torch.as_tensor(dna.encode(sequences), dtype=torch.long)
    y = torch.as_tensor(np.asarray(labels), dtype=torch.float32)
    generator = torch.Generator().manual_seed(seed)
    return DataLoader(
        TensorDataset(x, y), batch_size=batch_size, shuffle=shuffle, generator=generator
    )


def fit_classifier(
    model, train, val, epochs: int, lr: float = 1e-3, seed: int = 0, desc="training"
):
    """Train a sequence classifier with AdamW and BCE; keep the epoch with the best val AUROC.

    Args:
        train, val: ``(sequences, labels)`` pairs.

    Returns:
        The :class:`bios740.training.History`.
    """
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    return fit(
        model,
        loaders(*train, shuffle=True, seed=seed),
        nn.BCEWithLogitsLoss(),
        optimizer,
        epochs=epochs,
        val_loader=loaders(*val, batch_size=512),
        metrics={"auroc": auroc},
        best_on="val_auroc",
        mode="max",
        clip_grad_norm=1.0,
        desc=desc,
    )


def scores(model: nn.Module, sequences) -> np.ndarray:
    """Model logits for sequences (eval mode, batches of 512)."""
    outputs, _ = predict(model, loaders(sequences, np.zeros(len(sequences)), batch_size=512))
    return outputs.numpy()


@torch.no_grad()
def in_silico_mutagenesis(model: nn.Module, codes: np.ndarray) -> np.ndarray:
    """Effect of every single-base substitution on the logit: ``(n, L, 4)``, 0 at the original base."""
    codes = np.asarray(codes)
    if codes.ndim != 2:
        raise ValueError(f"expected base codes (n, length), got shape {codes.shape}")
    device = next(model.parameters()).device
    model.eval()
    n, length = codes.shape
    base = torch.as_tensor(codes, dtype=torch.long, device=device)
    reference = model(base)
    effects = np.zeros((n, length, 4), dtype=np.float32)
    for position in range(length):
        for letter in range(4):
            mutant = base.clone()
            mutant[:, position] = letter
            effects[:, position, letter] = (model(mutant) - reference).cpu().numpy()
    return effects
