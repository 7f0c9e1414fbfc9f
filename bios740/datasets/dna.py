"""DNA sequences for chapter 7: real assay data shipped with logomaker, and a motif grammar.

**Real (offline, inside the logomaker package, MIT licence; ``logomaker/examples/datafiles``):**

- ARS1 selection data (:func:`load_ars1`): 603,569 distinct variants of the 150-bp yeast
  replication origin ARS1, each with its read count in the mutagenized library and after
  selection for replication (an experiment like the arsMut-seq assay of Liachko et al.
  2013). Every count is even (reads were counted twice), and almost every variant was seen
  in only one of the two pools, so the task is binary: was this variant enriched by
  selection (more selected than library reads)? Ties (1,144) are dropped. Variants carry
  about 10 point mutations each (7% per position); sequences are returned in the
  orientation of ``ars_wt_sequence.txt`` (the file stores their reverse complement), so
  that positions match :data:`ARS1_ELEMENTS`.
- Human 5' splice sites (:func:`load_splice_sites`): 10,227 distinct 9-mers (NNNGYNNNN,
  hg38, GENCODE) with the number of times each occurs in the genome.
- E. coli CRP binding sites (:func:`load_crp_sites`): 358 sites, 26 bp, from RegulonDB.

**Near-duplicates.** All ARS1 variants derive from one wild type, so a random split would
put variants that differ by one or two bases into training and test. :func:`near_duplicate_groups`
links every pair within Hamming distance ``max_distance`` (default 2), exactly (a pigeonhole
argument on four sequence blocks finds all such pairs), and :func:`split_groups` assigns
whole connected groups to one split. Test sequences are then at least 3 substitutions
from every training sequence. Most groups are single variants; variants with few mutations
are all close to the wild type and to each other, so they form one large group (about 3%
of a 40,000-variant sample) that lands in a single split.

**Semi-synthetic (exact ground truth):** :func:`make_motif_grammar`. Background DNA is
drawn from a first-order Markov chain with human-like composition (A/T about 61%) and CpG
depletion (observed/expected 0.25). Into each sequence one SOX2 site (JASPAR MA0143.5) and
one POU5F1/OCT4 site (JASPAR MA1115.2) are sampled from their position frequency matrices
and planted, both on the same strand. The label is a grammar inspired by the Sox-Oct
composite elements of embryonic stem-cell enhancers: positive when, reading along the
sites' strand, SOX2 lies **upstream** of OCT4 with a spacer of 5-20 bp; negative when the
order is reversed (same spacers) or the spacer is 30-45 bp. Both classes contain exactly
the same two motifs with the same orientations, so every k-mer count (k <= 6, which cannot
span a 5-bp spacer) has the same distribution in both classes: a bag-of-k-mers model
cannot beat chance (tests/datasets/test_dna.py checks AUROC < 0.6 with logistic regression
and gradient boosting on 1- to 4-mer counts). Easier than real enhancers: one site per
factor, no other factors, no chance strong matches in the background (they are resampled),
a deterministic rule without noise, and no chromatin context. The rule is not the measured
Sox2-Oct4 syntax (which is mostly adjacent sites); it is chosen so that order, spacing
and orientation all matter.

**Colab path:** :func:`load_genomic_benchmark` reads the Genomic Benchmarks data sets
(Grešová et al. 2023), e.g. ``human_nontata_promoters``, from the folder layout that the
``genomic-benchmarks`` package writes (``NAME/{train,test}/CLASS/ID.txt``), downloading them
with that package when asked and checking the format.
"""

from __future__ import annotations

import gzip
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from bios740.download import DataUnavailableError

BASES = "ACGT"
_COMPLEMENT = str.maketrans("ACGTacgtN", "TGCAtgcaN")
_CODE = np.full(256, -1, dtype=np.int8)
for _index, _base in enumerate(BASES):
    _CODE[ord(_base)] = _CODE[ord(_base.lower())] = _index

#: Functional elements of ARS1, half-open ranges in wild-type coordinates, as highlighted
#: in logomaker's ARS1 enrichment figure (Tareen & Kinney 2020, Fig. 1e) after Liachko et
#: al. (2013): the ARS consensus sequence (ACS, TTTTATGTTTA at 18-29) and the B1 and B2
#: elements.
ARS1_ELEMENTS = {"ACS": (17, 33), "B1": (43, 51), "B2": (74, 92)}

#: JASPAR 2024 position count matrices (rows A, C, G, T), CC BY 4.0, jaspar.elixir.no.
JASPAR_COUNTS = {
    "SOX2": (
        "MA0143.5",
        [
            [83515, 1307, 81587, 80825, 4815, 9926, 14772],
            [436, 78356, 1205, 1742, 732, 800, 6264],
            [418, 1243, 550, 2002, 930, 73372, 54414],
            [1385, 4848, 2412, 1185, 79277, 1656, 10304],
        ],
    ),
    "POU5F1": (
        "MA1115.2",
        [
            [12693, 83, 717, 533, 11756, 10560, 12280],
            [122, 130, 192, 10310, 132, 690, 270],
            [229, 67, 11571, 548, 118, 1026, 257],
            [70, 12834, 634, 1723, 1108, 838, 307],
        ],
    ),
}

GRAMMAR_KINDS = ("composite", "wrong order", "too far")


# ----------------------------------------------------------------------------- encoding


def encode(sequences, length: int | None = None) -> np.ndarray:
    """Integer codes (A=0, C=1, G=2, T=3) of equal-length sequences, shape ``(n, length)``.

    Raises:
        ValueError: on a character other than ACGT (any case) or unequal lengths.
    """
    if isinstance(sequences, str):
        sequences = [sequences]
    sequences = list(sequences)
    if not sequences:
        raise ValueError("no sequences given")
    lengths = {len(s) for s in sequences}
    if len(lengths) != 1 or (length is not None and lengths != {length}):
        raise ValueError(f"all sequences must have one length, got lengths {sorted(lengths)[:5]}")
    raw = np.frombuffer("".join(sequences).encode("ascii"), dtype=np.uint8)
    codes = _CODE[raw].reshape(len(sequences), -1)
    if (codes < 0).any():
        row = int(np.nonzero((codes < 0).any(1))[0][0])
        raise ValueError(
            f"sequence {row} has a character other than A, C, G, T: {sequences[row]!r}"
        )
    return codes


def one_hot(sequences) -> np.ndarray:
    """One-hot encoding, float32 ``(n, length, 4)`` in the order A, C, G, T."""
    return np.eye(4, dtype=np.float32)[encode(sequences)]


def decode(codes: np.ndarray) -> list[str]:
    """Inverse of :func:`encode`."""
    letters = np.array(list(BASES))
    return ["".join(row) for row in letters[np.asarray(codes)]]


def reverse_complement(sequence: str) -> str:
    """The reverse complement of a DNA string (keeps case; N stays N)."""
    return sequence.translate(_COMPLEMENT)[::-1]


def kmer_counts(sequences, k: int) -> np.ndarray:
    """Counts of every overlapping k-mer, ``(n, 4**k)`` float32, k-mers in lexicographic order."""
    if not 1 <= k <= 8:
        raise ValueError(f"k must be between 1 and 8, got {k}")
    codes = encode(sequences).astype(np.int64)
    n, length = codes.shape
    index = np.zeros((n, length - k + 1), dtype=np.int64)
    for offset in range(k):
        index = index * 4 + codes[:, offset : length - k + 1 + offset]
    counts = np.zeros((n, 4**k), dtype=np.float32)
    np.add.at(counts, (np.repeat(np.arange(n), index.shape[1]), index.ravel()), 1)
    return counts


# ------------------------------------------------------------------- logomaker real data


def logomaker_datafile(name: str) -> Path:
    """Path of a data file shipped in ``logomaker/examples/datafiles``.

    Raises:
        DataUnavailableError: logomaker is not installed or lacks the file.
    """
    spec = importlib.util.find_spec("logomaker")
    if spec is None or spec.origin is None:
        raise DataUnavailableError(
            "the DNA data of chapter 7 ship with the logomaker package: pip install 'logomaker>=0.8'"
        )
    path = Path(spec.origin).parent / "examples" / "datafiles" / name
    if not path.is_file():
        raise DataUnavailableError(
            f"{path} is missing; reinstall logomaker (pip install --force-reinstall logomaker)"
        )
    return path


def _strip_comments(path: Path) -> list[str]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as handle:
        return [line.strip() for line in handle if line.strip() and not line.startswith("#")]


def ars1_wild_type() -> str:
    """The 150-bp ARS1 wild-type sequence (S. cerevisiae chrIV, minus strand)."""
    sequence = "".join(_strip_comments(logomaker_datafile("ars_wt_sequence.txt")))
    if len(sequence) != 150:
        raise DataUnavailableError(f"ars_wt_sequence.txt should hold 150 bp, found {len(sequence)}")
    return sequence


@dataclass
class Ars1Data:
    """ARS1 variants: sequences (wild-type orientation), counts, label = enriched by selection."""

    sequences: np.ndarray
    library_count: np.ndarray
    selected_count: np.ndarray
    label: np.ndarray
    n_mutations: np.ndarray

    def __len__(self) -> int:
        return len(self.sequences)

    def subset(self, index) -> Ars1Data:
        """The variants at ``index`` (an index array or boolean mask)."""
        return Ars1Data(*(getattr(self, f)[index] for f in self.__dataclass_fields__))


def load_ars1(n_variants: int | None = None, seed: int = 0) -> Ars1Data:
    """The ARS1 selection data: every variant, or a random ``n_variants`` of them.

    Args:
        n_variants: how many variants to draw without replacement (None: all 602,425).
        seed: seed of the draw.

    Returns:
        :class:`Ars1Data`; ``label`` is 1 where the selected count exceeds the library count.
    """
    table = pd.read_csv(logomaker_datafile("ars_sequences.txt.gz"), sep="\t", comment="#")
    if list(table.columns) != ["library_ct", "selected_ct", "sequence"]:
        raise DataUnavailableError(f"unexpected columns in ars_sequences.txt.gz: {list(table)}")
    table = table[table.library_ct != table.selected_ct]
    if n_variants is not None:
        if not 1 <= n_variants <= len(table):
            raise ValueError(f"n_variants must be between 1 and {len(table)}, got {n_variants}")
        rows = np.sort(np.random.default_rng(seed).choice(len(table), n_variants, replace=False))
        table = table.iloc[rows]
    sequences = np.array([reverse_complement(s) for s in table.sequence])
    wild_type = encode(ars1_wild_type())[0]
    n_mutations = (encode(sequences) != wild_type).sum(axis=1)
    return Ars1Data(
        sequences=sequences,
        library_count=table.library_ct.to_numpy(),
        selected_count=table.selected_ct.to_numpy(),
        label=(table.selected_ct > table.library_ct).to_numpy().astype(np.int64),
        n_mutations=n_mutations,
    )


def load_splice_sites() -> pd.DataFrame:
    """Human 5' splice sites: columns ``sequence`` (9-mer NNNGYNNNN) and ``count`` in hg38."""
    rows = [line.split() for line in _strip_comments(logomaker_datafile("ss_sequences.txt"))]
    table = pd.DataFrame(rows[1:], columns=rows[0]) if not rows[0][0].isdigit() else None
    if table is None or table.shape[1] != 2:
        raise DataUnavailableError("ss_sequences.txt is not the two-column table expected")
    table.columns = ["sequence", "count"]
    table["count"] = table["count"].astype(int)
    table["sequence"] = table["sequence"].str.upper().str.replace("U", "T")  # RNA to DNA
    return table


def load_crp_sites() -> list[str]:
    """The 358 E. coli CRP binding sites (26 bp each, upper case)."""
    lines = _strip_comments(logomaker_datafile("crp_sites.fa"))
    sites = [line.upper() for line in lines if not line.startswith(">")]
    if len(sites) != sum(line.startswith(">") for line in lines):
        raise DataUnavailableError("crp_sites.fa does not alternate headers and sequences")
    return sites


# ------------------------------------------------------------------------- splitting


class _UnionFind:
    def __init__(self, n):
        self.parent = np.arange(n)

    def find(self, i):
        root = i
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[i] != root:
            self.parent[i], i = root, self.parent[i]
        return root

    def union(self, i, j):
        self.parent[self.find(i)] = self.find(j)


def near_duplicate_pairs(sequences, max_distance: int = 2) -> np.ndarray:
    """All pairs ``(i, j)``, ``i < j``, of equal-length sequences within Hamming distance ``max_distance``.

    Exact, not a heuristic: cut the sequences into ``max_distance + 2`` blocks; two
    sequences with at most ``max_distance`` differences agree on at least two whole
    blocks, so every such pair shares the key of some pair of blocks. Only sequences
    sharing a key are compared.
    """
    codes = encode(sequences)
    n, length = codes.shape
    n_blocks = max_distance + 2
    edges = np.linspace(0, length, n_blocks + 1).astype(int)
    block_keys = [
        pd.util.hash_array(np.ascontiguousarray(codes[:, a:b]).view(f"V{b - a}").ravel())
        for a, b in zip(edges[:-1], edges[1:], strict=True)
    ]
    found = set()
    for first in range(n_blocks):
        for second in range(first + 1, n_blocks):
            key = block_keys[first] * np.uint64(1_000_003) + block_keys[second]
            order = np.argsort(key, kind="stable")
            sorted_key = key[order]
            starts = np.flatnonzero(np.r_[True, sorted_key[1:] != sorted_key[:-1]])
            sizes = np.diff(np.r_[starts, n])
            for start, size in zip(starts[sizes > 1], sizes[sizes > 1], strict=True):
                members = np.sort(order[start : start + size])
                distance = (codes[members][:, None, :] != codes[members][None, :, :]).sum(-1)
                for a, b in zip(*np.nonzero(np.triu(distance <= max_distance, 1)), strict=True):
                    found.add((int(members[a]), int(members[b])))
    return np.array(sorted(found), dtype=np.int64).reshape(-1, 2)


def near_duplicate_groups(sequences, max_distance: int = 2) -> np.ndarray:
    """Group id per sequence: connected components of the 'within ``max_distance``' relation."""
    sequences = list(sequences)
    union_find = _UnionFind(len(sequences))
    for i, j in near_duplicate_pairs(sequences, max_distance):
        union_find.union(i, j)
    roots = np.array([union_find.find(i) for i in range(len(sequences))])
    return np.unique(roots, return_inverse=True)[1]


def split_groups(
    groups: np.ndarray, fractions=(0.6, 0.2, 0.2), seed: int = 0
) -> dict[str, np.ndarray]:
    """Indices of ``train``, ``val`` and ``test``; every group falls into exactly one split.

    Groups are shuffled with ``seed`` and dealt out until each split holds its fraction
    of the sequences.
    """
    groups = np.asarray(groups)
    if len(fractions) != 3 or abs(sum(fractions) - 1) > 1e-9 or min(fractions) <= 0:
        raise ValueError(f"fractions must be three positive numbers summing to 1, got {fractions}")
    order = np.random.default_rng(seed).permutation(np.unique(groups))
    sizes = np.bincount(groups)[order]
    cumulative = np.cumsum(sizes) / len(groups)
    split_of_group = np.empty(groups.max() + 1, dtype=np.int64)
    split_of_group[order] = np.searchsorted(np.cumsum(fractions)[:2], cumulative, side="left")
    where = split_of_group[groups]
    return {name: np.flatnonzero(where == k) for k, name in enumerate(("train", "val", "test"))}


def split_ars1(data: Ars1Data, fractions=(0.6, 0.2, 0.2), seed: int = 0, max_distance: int = 2):
    """Split ARS1 variants so that no pair within ``max_distance`` substitutions crosses splits."""
    groups = near_duplicate_groups(data.sequences, max_distance)
    return {
        name: data.subset(index) for name, index in split_groups(groups, fractions, seed).items()
    }


# --------------------------------------------------------------- semi-synthetic grammar


def jaspar_frequencies(name: str) -> np.ndarray:
    """Position frequency matrix ``(length, 4)`` of ``"SOX2"`` or ``"POU5F1"`` (rows sum to 1)."""
    if name not in JASPAR_COUNTS:
        raise ValueError(f"unknown motif {name!r}; choose from {sorted(JASPAR_COUNTS)}")
    counts = np.array(JASPAR_COUNTS[name][1], dtype=np.float64).T
    return counts / counts.sum(axis=1, keepdims=True)


def background_transitions(at_fraction: float = 0.59, cpg_ratio: float = 0.25) -> np.ndarray:
    """First-order Markov transitions ``P[b | a]`` with a given A+T share and CpG depletion."""
    composition = np.array([at_fraction, 1 - at_fraction, 1 - at_fraction, at_fraction]) / 2
    transitions = np.tile(composition, (4, 1))
    transitions[1, 2] *= cpg_ratio  # C followed by G
    return transitions / transitions.sum(axis=1, keepdims=True)


def markov_background(n: int, length: int, rng: np.random.Generator) -> np.ndarray:
    """``(n, length)`` integer codes drawn from :func:`background_transitions`."""
    transitions = np.cumsum(background_transitions(), axis=1)
    codes = np.empty((n, length), dtype=np.int8)
    codes[:, 0] = rng.choice(4, size=n, p=np.diff(np.r_[0, transitions[0]]))
    uniform = rng.random((n, length))
    for t in range(1, length):
        codes[:, t] = (uniform[:, t, None] > transitions[codes[:, t - 1]]).sum(axis=1)
    return codes


def _log_odds(frequencies: np.ndarray) -> np.ndarray:
    return np.log((frequencies + 1e-3) / 0.25)


def motif_scan(codes: np.ndarray, frequencies: np.ndarray) -> np.ndarray:
    """Best log-odds score of the motif on either strand at each start, ``(n, L - w + 1)``."""
    weights = _log_odds(frequencies)
    reverse = weights[::-1, ::-1]  # the reverse complement's matrix (A<->T, C<->G)
    width = len(weights)
    n_starts = codes.shape[1] - width + 1
    forward = sum(weights[j][codes[:, j : j + n_starts]] for j in range(width))
    backward = sum(reverse[j][codes[:, j : j + n_starts]] for j in range(width))
    return np.maximum(forward, backward)


@dataclass
class GrammarData:
    """Motif-grammar sequences with their exact ground truth.

    ``sox_start``/``oct_start`` are the 0-based starts of the planted sites on the forward
    strand; ``strand`` is +1 or -1 (both sites); ``spacer`` the bases between them;
    ``kind`` one of :data:`GRAMMAR_KINDS`.
    """

    sequences: np.ndarray
    labels: np.ndarray
    sox_start: np.ndarray
    oct_start: np.ndarray
    strand: np.ndarray
    spacer: np.ndarray
    kind: np.ndarray

    def __len__(self) -> int:
        return len(self.sequences)

    def motif_mask(self) -> np.ndarray:
        """Boolean ``(n, length)``: True on the bases of either planted site."""
        length = len(self.sequences[0])
        positions = np.arange(length)[None, :]
        widths = {name: len(JASPAR_COUNTS[name][1][0]) for name in JASPAR_COUNTS}
        sox = (positions >= self.sox_start[:, None]) & (
            positions < self.sox_start[:, None] + widths["SOX2"]
        )
        oct_ = (positions >= self.oct_start[:, None]) & (
            positions < self.oct_start[:, None] + widths["POU5F1"]
        )
        return sox | oct_


def _sample_sites(frequencies: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    cumulative = np.cumsum(frequencies, axis=1)
    return (rng.random((n, len(frequencies)))[..., None] > cumulative[None]).sum(-1)


def make_motif_grammar(n: int, length: int = 80, seed: int = 0) -> GrammarData:
    """Sequences with one SOX2 and one OCT4 site; label 1 for the composite grammar.

    Half the sequences are positive (SOX2 upstream of OCT4 along their strand, spacer
    5-20 bp); a quarter have the order reversed (spacer 5-20 bp) and a quarter the right
    order with a spacer of 30-45 bp. See the module docstring for what is easier than
    real enhancers.

    Args:
        n: number of sequences (at least 4).
        length: sequence length (at least 65, room for the longest arrangement).
        seed: seed of the generator; the same seed gives the same data.
    """
    if n < 4:
        raise ValueError(f"n must be at least 4, got {n}")
    sox_freq, oct_freq = jaspar_frequencies("SOX2"), jaspar_frequencies("POU5F1")
    width_sox, width_oct = len(sox_freq), len(oct_freq)
    if length < width_sox + width_oct + 45 + 6:
        raise ValueError(f"length must be at least {width_sox + width_oct + 51}, got {length}")
    rng = np.random.default_rng(seed)
    kind = rng.permutation(np.r_[np.zeros(n - 2 * (n // 4)), np.ones(n // 4), 2 * np.ones(n // 4)])
    kind = kind.astype(np.int64)
    spacer = np.where(kind == 2, rng.integers(30, 46, n), rng.integers(5, 21, n))
    strand = rng.choice([1, -1], size=n)
    span = width_sox + width_oct + spacer
    start = rng.integers(3, length - span - 2)  # at least 3 bases of background each side
    sox_first_along_strand = kind != 1
    # On the forward strand, the site read first along a minus-strand pair is the later one.
    sox_left = sox_first_along_strand == (strand == 1)
    sox_start = np.where(sox_left, start, start + width_oct + spacer)
    oct_start = np.where(sox_left, start + width_sox + spacer, start)

    codes = markov_background(n, length, rng)
    threshold = {
        name: 0.6 * _log_odds(freq).max(axis=1).sum()
        for name, freq in (("SOX2", sox_freq), ("POU5F1", oct_freq))
    }
    for _ in range(50):  # resample backgrounds with a strong chance match of either motif
        bad = (motif_scan(codes, sox_freq).max(1) > threshold["SOX2"]) | (
            motif_scan(codes, oct_freq).max(1) > threshold["POU5F1"]
        )
        if not bad.any():
            break
        codes[bad] = markov_background(int(bad.sum()), length, rng)
    for frequencies, starts, width in (
        (sox_freq, sox_start, width_sox),
        (oct_freq, oct_start, width_oct),
    ):
        sites = _sample_sites(frequencies, n, rng)
        minus = strand == -1
        sites[minus] = 3 - sites[minus][:, ::-1]  # reverse complement
        columns = starts[:, None] + np.arange(width)[None, :]
        codes[np.arange(n)[:, None], columns] = sites
    return GrammarData(
        sequences=np.array(decode(codes)),
        labels=(kind == 0).astype(np.int64),
        sox_start=sox_start,
        oct_start=oct_start,
        strand=strand,
        spacer=spacer,
        kind=np.array(GRAMMAR_KINDS)[kind],
    )


# -------------------------------------------------------------- Genomic Benchmarks (Colab)


def load_genomic_benchmark(
    name: str = "human_nontata_promoters", root: str | Path | None = None, download: bool = False
) -> dict[str, pd.DataFrame]:
    """A Genomic Benchmarks data set: ``{"train": table, "test": table}``.

    Each table has columns ``sequence`` (upper case) and ``label`` (class index, classes in
    alphabetical order of their folder names) and ``class_name``.

    Args:
        name: data set name, e.g. ``"human_nontata_promoters"`` or ``"demo_human_or_worm"``.
        root: folder that holds ``name/``; default ``bios740.paths.data_dir("genomic_benchmarks")``.
        download: if the folder is missing, download it with the ``genomic-benchmarks``
            package (needs internet; Colab).

    Raises:
        DataUnavailableError: the data are missing (and not downloadable here) or not in
            the expected layout ``name/{train,test}/CLASS/*.txt`` with one DNA sequence each.
    """
    if root is None:
        from bios740.paths import data_dir

        root = data_dir("genomic_benchmarks")
    folder = Path(root) / name
    if not folder.is_dir() and download:
        try:
            from genomic_benchmarks.loc2seq import download_dataset
        except ImportError as error:
            raise DataUnavailableError(
                "downloading needs the genomic-benchmarks package: pip install genomic-benchmarks"
            ) from error
        try:
            download_dataset(name, version=0, dest_path=str(root))
        except Exception as error:  # network errors of several kinds from the package
            raise DataUnavailableError(f"could not download {name}: {error}") from error
    if not folder.is_dir():
        raise DataUnavailableError(
            f"{folder} does not exist. On Colab call load_genomic_benchmark({name!r}, "
            "download=True) after `pip install genomic-benchmarks`, or copy the folder "
            f"{name}/ (with train/ and test/) into {Path(root).resolve()}."
        )
    splits = {}
    classes = None
    for split in ("train", "test"):
        split_dir = folder / split
        found = (
            sorted(p.name for p in split_dir.iterdir() if p.is_dir()) if split_dir.is_dir() else []
        )
        if len(found) < 2:
            raise DataUnavailableError(f"{split_dir} needs one folder per class (found {found})")
        if classes is not None and found != classes:
            raise DataUnavailableError(f"train has classes {classes} but test has {found}")
        classes = found
        rows = []
        for label, class_name in enumerate(classes):
            for path in sorted((split_dir / class_name).glob("*.txt")):
                sequence = path.read_text().strip().upper()
                if not sequence or set(sequence) - set("ACGTN"):
                    raise DataUnavailableError(f"{path} does not hold one DNA sequence (ACGTN)")
                rows.append((sequence, label, class_name))
        if not rows:
            raise DataUnavailableError(f"{split_dir} has no sequence files (*.txt)")
        splits[split] = pd.DataFrame(rows, columns=["sequence", "label", "class_name"])
    return splits
