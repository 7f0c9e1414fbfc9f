"""bios740.datasets.dna: real logomaker DNA data, near-duplicate-free splits, the motif grammar."""

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from bios740.datasets import dna
from bios740.download import DataUnavailableError


def test_encoding_round_trip_and_errors():
    assert dna.encode(["ACGT", "ttga"]).tolist() == [[0, 1, 2, 3], [3, 3, 2, 0]]
    assert dna.decode(dna.encode(["GATTACA"])) == ["GATTACA"]
    assert dna.one_hot("AC").tolist() == [[[1, 0, 0, 0], [0, 1, 0, 0]]]
    assert dna.reverse_complement("AACGTN") == "NACGTT"
    with pytest.raises(ValueError, match="other than A, C, G, T"):
        dna.encode(["ACGN"])
    with pytest.raises(ValueError, match="one length"):
        dna.encode(["AC", "ACG"])


def test_kmer_counts_by_hand():
    counts = dna.kmer_counts(["AAAC", "ACAC"], 2)
    assert counts.shape == (2, 16)
    assert counts[0, 0] == 2 and counts[0, 1] == 1  # AA twice, AC once
    assert counts[1, 1] == 2 and counts[1, 4] == 1  # AC twice, CA once
    assert dna.kmer_counts(["ACGT"], 1).tolist() == [[1, 1, 1, 1]]


def test_ars1_real_data_and_wild_type_elements():
    wild_type = dna.ars1_wild_type()
    assert len(wild_type) == 150
    start, stop = dna.ARS1_ELEMENTS["ACS"]
    assert "TTTTATGTTTA" in wild_type[start:stop]  # the ARS consensus sequence
    data = dna.load_ars1(3000, seed=1)
    assert len(data) == 3000 and all(len(s) == 150 for s in data.sequences[:50])
    assert (data.library_count != data.selected_count).all()
    assert set(np.unique(data.label)) == {0, 1}
    # About 10 substitutions per variant relative to the wild type (same orientation).
    assert 7 < data.n_mutations.mean() < 13 and data.n_mutations.min() >= 1
    # Mutations in the ACS destroy function: fewer enriched variants when it is hit.
    codes = dna.encode(data.sequences)
    acs_hit = (codes[:, 18:29] != dna.encode(wild_type)[0, 18:29]).any(1)
    assert data.label[acs_hit].mean() < data.label[~acs_hit].mean() - 0.1
    again = dna.load_ars1(3000, seed=1)
    assert (again.sequences == data.sequences).all()
    with pytest.raises(ValueError, match="n_variants"):
        dna.load_ars1(0)


def test_splice_and_crp_sites():
    splice = dna.load_splice_sites()
    assert len(splice) == 10227 and splice["count"].min() >= 1
    assert splice.sequence.str.match(r"^[ACGT]{3}G[CT][ACGT]{4}$").all()
    assert splice.sequence.iloc[splice["count"].idxmax()][3:5] == "GT"
    crp = dna.load_crp_sites()
    assert len(crp) == 358 and {len(s) for s in crp} == {26}
    assert sum("TGTGA" in s for s in crp) > 80  # the CRP half-site (97 of 358 exactly)


def _brute_force_pairs(sequences, max_distance):
    codes = dna.encode(sequences)
    distance = (codes[:, None] != codes[None]).sum(-1)
    i, j = np.nonzero(np.triu(distance <= max_distance, 1))
    return set(zip(i.tolist(), j.tolist(), strict=True))


def test_near_duplicate_pairs_are_exact():
    rng = np.random.default_rng(0)
    base = rng.integers(0, 4, 40)
    variants = []
    for _ in range(300):  # variants of one sequence with 0-4 substitutions, like ARS1
        row = base.copy()
        where = rng.choice(40, rng.integers(0, 5), replace=False)
        row[where] = rng.integers(0, 4, len(where))
        variants.append(row)
    sequences = dna.decode(np.array(variants))
    for max_distance in (1, 2, 3):
        found = {tuple(p) for p in dna.near_duplicate_pairs(sequences, max_distance).tolist()}
        assert found == _brute_force_pairs(sequences, max_distance)


def test_ars1_split_has_no_near_duplicates_across_splits():
    data = dna.load_ars1(6000, seed=2)
    splits = dna.split_ars1(data, seed=3)
    sizes = {name: len(part) for name, part in splits.items()}
    assert sum(sizes.values()) == 6000 and 0.55 < sizes["train"] / 6000 < 0.65
    for first, second in (("train", "test"), ("train", "val"), ("val", "test")):
        a = dna.encode(splits[first].sequences)
        b = dna.encode(splits[second].sequences)
        closest = min(
            ((a[:, None] != chunk[None]).sum(-1)).min() for chunk in np.array_split(b, 20)
        )
        assert closest >= 3, f"{first} and {second} share a near-duplicate"


def test_split_groups_keeps_groups_together_and_checks_fractions():
    groups = np.repeat(np.arange(50), 4)
    splits = dna.split_groups(groups, seed=0)
    where = np.empty(200, dtype=int)
    for k, index in enumerate(splits.values()):
        where[index] = k
    assert all(len(set(where[groups == g])) == 1 for g in range(50))
    with pytest.raises(ValueError, match="fractions"):
        dna.split_groups(groups, (0.5, 0.5, 0.5))


def test_markov_background_composition_and_cpg_depletion():
    codes = dna.markov_background(400, 200, np.random.default_rng(0))
    counts = np.bincount(codes.ravel(), minlength=4) / codes.size
    assert 0.58 < counts[0] + counts[3] < 0.64  # CpG depletion raises A+T a little above 0.59
    sequences = dna.decode(codes)
    dinucleotides = dna.kmer_counts(sequences, 2).sum(0)
    observed_expected = dinucleotides[6] / dinucleotides.sum() / (counts[1] * counts[2])
    assert 0.15 < observed_expected < 0.35  # CG is index 1*4+2


def test_grammar_ground_truth_is_what_the_sequences_contain():
    data = dna.make_motif_grammar(400, seed=0)
    assert abs(data.labels.mean() - 0.5) < 0.01 and set(data.kind) == set(dna.GRAMMAR_KINDS)
    codes = dna.encode(data.sequences)
    for name, starts in (("SOX2", data.sox_start), ("POU5F1", data.oct_start)):
        scores = dna.motif_scan(codes, dna.jaspar_frequencies(name))
        planted = scores[np.arange(400), starts]
        others = scores.copy()
        others[np.arange(400), starts] = -np.inf
        assert np.median(planted) > np.percentile(others.max(1), 90)
    sox_first = (data.sox_start < data.oct_start) == (data.strand == 1)
    gap = np.abs(data.oct_start - data.sox_start) - 7
    assert (gap == data.spacer).all()
    positive = sox_first & (data.spacer <= 20)
    assert (positive == data.labels.astype(bool)).all()
    assert data.motif_mask().sum(1).tolist() == [14] * 400
    again = dna.make_motif_grammar(400, seed=0)
    assert (again.sequences == data.sequences).all()


def test_grammar_is_not_solvable_by_a_bag_of_kmers():
    train = dna.make_motif_grammar(3000, seed=1)
    test = dna.make_motif_grammar(1500, seed=2)

    def features(sequences):
        return np.concatenate([dna.kmer_counts(sequences, k) for k in range(1, 5)], axis=1)

    x_train, x_test = features(train.sequences), features(test.sequences)
    for model in (
        LogisticRegression(C=0.05, max_iter=3000),
        HistGradientBoostingClassifier(max_iter=150, random_state=0),
    ):
        model.fit(np.log1p(x_train), train.labels)
        auroc = roc_auc_score(test.labels, model.predict_proba(np.log1p(x_test))[:, 1])
        assert auroc < 0.6, f"{type(model).__name__} reaches AUROC {auroc:.3f} from k-mer counts"


def _write_benchmark(root, name="tiny_promoters"):
    for split, n in (("train", 3), ("test", 2)):
        for label, class_name in enumerate(("negative", "positive")):
            folder = root / name / split / class_name
            folder.mkdir(parents=True)
            for i in range(n):
                (folder / f"{i}.txt").write_text(("ACGT" if label else "TTGA") * 5 + "N\n")
    return root


def test_genomic_benchmark_loader_on_fake_files(tmp_path):
    splits = dna.load_genomic_benchmark("tiny_promoters", root=_write_benchmark(tmp_path))
    assert len(splits["train"]) == 6 and len(splits["test"]) == 4
    assert splits["train"].label.tolist() == [0, 0, 0, 1, 1, 1]
    assert splits["test"].class_name.tolist()[-1] == "positive"
    assert splits["train"].sequence.iloc[-1] == "ACGT" * 5 + "N"


def test_genomic_benchmark_loader_errors(tmp_path):
    with pytest.raises(DataUnavailableError, match="download=True"):
        dna.load_genomic_benchmark("missing", root=tmp_path)
    root = _write_benchmark(tmp_path)
    (root / "tiny_promoters" / "test" / "positive" / "0.txt").write_text("not dna")
    with pytest.raises(DataUnavailableError, match="one DNA sequence"):
        dna.load_genomic_benchmark("tiny_promoters", root=root)
    other = tmp_path / "other"
    _write_benchmark(other, "b")
    for path in (other / "b" / "test" / "positive").iterdir():
        path.unlink()
    (other / "b" / "test" / "positive").rmdir()
    with pytest.raises(DataUnavailableError, match="one folder per class"):
        dna.load_genomic_benchmark("b", root=other)
