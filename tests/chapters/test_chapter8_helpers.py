"""Tests for Chapter8/helpers.py: the report vocabulary, BERT's masking rule, the small BERT, pretraining."""

import numpy as np
import pytest
import torch
from chapter_modules import load_helpers

helpers = load_helpers(8)

TEXTS = [
    "No pleural effusion or pneumothorax.",
    "The heart is normal in size. The lungs are clear.",
    "Mild cardiomegaly. Small left pleural effusion.",
] * 20


@pytest.fixture(scope="module")
def vocabulary():
    from transformers import AutoTokenizer

    from bios740.datasets import reports

    tokenizer = AutoTokenizer.from_pretrained(reports.minilm_folder())
    return helpers.ReportVocabulary(tokenizer, TEXTS, max_length=16)


def test_report_vocabulary_keeps_the_used_tokens(vocabulary):
    assert vocabulary.tokens[:5] == list(helpers.SPECIAL_TOKENS)
    assert vocabulary.mask_id == 4 and vocabulary.pad_id == 0
    assert "heart" in vocabulary.tokens and "tumor" not in vocabulary.tokens
    assert len(vocabulary) == len(set(vocabulary.tokens)) < 40  # not 30,522
    ids, attention = vocabulary.encode(["the lungs are clear.", "tumor"])
    assert ids.shape == attention.shape == (2, 16)
    assert vocabulary.decode(ids[0, :6]) == ["[CLS]", "the", "lungs", "are", "clear", "."]
    assert vocabulary.decode(ids[1, :3]) == ["[CLS]", "[UNK]", "[SEP]"]  # unseen -> [UNK]
    assert attention[1].tolist() == [1, 1, 1] + [0] * 13 and ids[1, 3:].eq(0).all()
    again = helpers.ReportVocabulary(vocabulary.tokenizer, TEXTS, max_length=16)
    assert again.tokens == vocabulary.tokens  # deterministic


def test_report_vocabulary_rejects_bad_input(vocabulary):
    with pytest.raises(TypeError, match="list of strings"):
        helpers.ReportVocabulary(vocabulary.tokenizer, "one text")
    with pytest.raises(ValueError, match="at least 3"):
        helpers.ReportVocabulary(vocabulary.tokenizer, TEXTS, max_length=2)
    with pytest.raises(TypeError, match="list of strings"):
        vocabulary.encode("one text")


def test_mask_tokens_follows_the_80_10_10_rule():
    ids = torch.randint(5, 100, (400, 50))
    special = torch.zeros_like(ids, dtype=torch.bool)
    special[:, 0] = True
    generator = torch.Generator().manual_seed(0)
    inputs, labels = helpers.mask_tokens(ids, special, 4, 100, generator=generator)
    chosen = labels != helpers.IGNORE
    assert not chosen[:, 0].any()  # special positions are never chosen
    assert torch.equal(labels[chosen], ids[chosen])
    assert torch.equal(inputs[~chosen], ids[~chosen])  # unchosen tokens are untouched
    assert abs(chosen[:, 1:].float().mean().item() - 0.15) < 0.01
    masked = (inputs[chosen] == 4).float().mean().item()
    kept = (inputs[chosen] == ids[chosen]).float().mean().item()
    assert abs(masked - 0.8) < 0.02 and abs(kept - 0.1 - 0.009) < 0.02  # 1/95 random = self
    assert inputs[chosen & (inputs != 4)].min() >= 5  # random tokens are never special
    again = helpers.mask_tokens(ids, special, 4, 100, generator=torch.Generator().manual_seed(0))
    assert torch.equal(again[0], inputs) and torch.equal(again[1], labels)


def test_mask_tokens_rejects_bad_input():
    ids = torch.zeros(2, 5, dtype=torch.long)
    with pytest.raises(ValueError, match="same"):
        helpers.mask_tokens(ids, torch.zeros(2, 4, dtype=torch.bool), 4, 10)
    with pytest.raises(ValueError, match="probability"):
        helpers.mask_tokens(ids, ids.bool(), 4, 10, probability=1.5)
    with pytest.raises(ValueError, match="first_random"):
        helpers.mask_tokens(ids, ids.bool(), 4, 10, first_random=10)


@pytest.mark.parametrize("norm_first", [False, True])
def test_small_bert_shapes_padding_and_errors(norm_first):
    torch.manual_seed(0)
    model = helpers.SmallBert(50, 12, 16, 2, 2, 32, dropout=0.0, norm_first=norm_first).eval()
    ids = torch.randint(5, 50, (2, 10))
    attention = torch.ones_like(ids)
    attention[1, 6:] = 0
    hidden = model(ids, attention)
    assert hidden.shape == (2, 10, 16) and model.mlm_logits(hidden).shape == (2, 10, 50)
    changed = ids.clone()
    changed[1, 6:] = 7  # padded positions must not change the real tokens' states
    assert torch.allclose(model(changed, attention)[1, :6], hidden[1, :6], atol=1e-5)
    with pytest.raises(ValueError, match="length <= 12"):
        model(torch.randint(0, 50, (1, 13)))
    with pytest.raises(ValueError, match="positions"):
        helpers.SmallBert(50, positions="rotary")
    with pytest.raises(ValueError, match="vocab_size"):
        helpers.SmallBert(1)


def test_mean_pool_ignores_padding():
    hidden = torch.arange(12.0).reshape(1, 4, 3).repeat(2, 1, 1)
    attention = torch.tensor([[1, 1, 0, 0], [1, 1, 1, 1]])
    pooled = helpers.mean_pool(hidden, attention)
    assert torch.allclose(pooled[0], torch.tensor([1.5, 2.5, 3.5]))
    assert torch.allclose(pooled[1], torch.tensor([4.5, 5.5, 6.5]))
    with pytest.raises(ValueError, match="share"):
        helpers.mean_pool(hidden, attention[:, :3])


def test_mlm_loss_and_unigram_loss_by_hand():
    model = helpers.SmallBert(10, 4, 8, 2, 1, 16, dropout=0.0)
    ids = torch.tensor([[2, 5, 6, 3]])
    labels = torch.full_like(ids, helpers.IGNORE)
    with pytest.raises(ValueError, match="no position"):
        helpers.mlm_loss(model, ids, labels, torch.ones_like(ids))
    labels[0, 1] = 5
    logits = model.mlm_logits(model(ids, torch.ones_like(ids)))[0, 1]
    expected = -torch.log_softmax(logits, -1)[5]
    assert torch.allclose(helpers.mlm_loss(model, ids, labels, torch.ones_like(ids)), expected)
    train = torch.tensor([[2, 5, 5, 6, 3]])  # counts of 5: 2, of 6: 1; add-one over 10
    assert helpers.unigram_loss(train, labels, 10) == pytest.approx(-np.log(3 / 13))
    with pytest.raises(ValueError, match="no chosen"):
        helpers.unigram_loss(train, torch.full_like(ids, helpers.IGNORE), 10)


def test_pretrain_mlm_lowers_the_loss_and_is_reproducible(vocabulary):
    ids, attention = vocabulary.encode(TEXTS)
    special = ids < len(helpers.SPECIAL_TOKENS)
    val = helpers.mask_tokens(
        ids[:12], special[:12], 4, len(vocabulary), 0.3, torch.Generator().manual_seed(5)
    )
    runs = []
    for _ in range(2):
        torch.manual_seed(0)
        model = helpers.SmallBert(len(vocabulary), 16, 32, 2, 1, 64, dropout=0.0, norm_first=True)
        runs.append(
            helpers.pretrain_mlm(
                model,
                ids,
                attention,
                special,
                4,
                val,
                steps=40,
                batch_size=16,
                lr=3e-3,
                eval_every=20,
                seed=0,
            )
        )
    history = runs[0]
    assert history["val_step"] == [0, 20, 40] and len(history["train_loss"]) == 40
    assert history["val_loss"][-1] < 0.8 * history["val_loss"][0]
    assert np.allclose(runs[0]["val_loss"], runs[1]["val_loss"])
    with pytest.raises(ValueError, match="positive"):
        helpers.pretrain_mlm(model, ids, attention, special, 4, steps=0)


@pytest.fixture(scope="module")
def tiny_bert():
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=50, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=32, max_position_embeddings=12,
    )  # fmt: skip
    return BertModel(config).eval()


def _tiny_batch():
    ids = torch.randint(5, 50, (6, 10), generator=torch.Generator().manual_seed(1))
    attention = torch.ones_like(ids)
    attention[:3, 7:] = 0
    ids[attention == 0] = 0
    return ids, attention


def test_encoder_states_match_transformers(tiny_bert):
    ids, attention = _tiny_batch()
    with torch.no_grad():
        reference = tiny_bert(input_ids=ids, attention_mask=attention, output_hidden_states=True)
    real = attention.bool()
    for k in (0, 1, 2):
        ours = helpers.encoder_states(tiny_bert, ids, attention, n_layers=k, batch_size=4)
        assert torch.allclose(ours[real], reference.hidden_states[k][real], atol=1e-5)
    every = helpers.encoder_states(tiny_bert, ids, attention)
    assert torch.allclose(every[real], reference.last_hidden_state[real], atol=1e-5)
    assert torch.all(every[~real] == 0)  # batched by length: padding comes back as zeros
    with pytest.raises(ValueError, match="n_layers"):
        helpers.encoder_states(tiny_bert, ids, attention, n_layers=3)
    with pytest.raises(ValueError, match="same"):
        helpers.encoder_states(tiny_bert, ids, attention[:, :5])


def test_by_length_trims_each_batch_and_restores_the_order():
    attention = torch.tensor([[1, 1, 1, 1], [1, 0, 0, 0], [1, 1, 0, 0], [1, 1, 1, 0]])
    inputs = torch.arange(16.0).reshape(4, 4)
    widths = []

    def run(x, mask):
        widths.append(x.shape[1])
        return (x * 10)[..., None]

    out = helpers.by_length(run, inputs, attention, batch_size=2)
    assert widths == [2, 4]  # the two shortest reports first, cut to two tokens
    assert torch.equal(out[..., 0], inputs * 10 * attention)
    with pytest.raises(ValueError, match="same"):
        helpers.by_length(run, inputs[:, :3], attention)
    with pytest.raises(ValueError, match="batch_size"):
        helpers.by_length(run, inputs, attention, batch_size=0)


def test_top_layer_mlm_copies_the_layer_and_maps_targets(tiny_bert):
    ids, attention = _tiny_batch()
    embeddings = tiny_bert.embeddings.word_embeddings.weight
    model = helpers.TopLayerMLM(tiny_bert.encoder.layer[1], embeddings, [7, 9, 11]).eval()
    states = helpers.encoder_states(tiny_bert, ids, attention, n_layers=1)
    top = helpers.encoder_states(tiny_bert, ids, attention)
    with torch.no_grad():
        out = model(states, attention)
    real = attention.bool()
    assert torch.allclose(out[real], top[real], atol=1e-5)  # the copy computes the same
    bulk = model.encode(states, attention, batch_size=4)
    assert torch.allclose(bulk[real], top[real], atol=1e-5) and not bulk.requires_grad
    assert model.layer is not tiny_bert.encoder.layer[1]
    assert model.logits(out).shape == (6, 10, 3)
    labels = torch.tensor([[helpers.IGNORE, 9, 7, 30]])
    assert model.targets(labels).tolist() == [[helpers.IGNORE, 1, 0, helpers.IGNORE]]
    with pytest.raises(ValueError, match="token_ids"):
        helpers.TopLayerMLM(tiny_bert.encoder.layer[1], embeddings, [3, 50])
    with pytest.raises(ValueError, match="no target"):
        model.loss(states, attention, torch.full_like(ids, helpers.IGNORE))


def test_train_top_mlm_lowers_the_loss_and_can_freeze_the_layer(tiny_bert):
    ids, attention = _tiny_batch()
    ids, attention = ids.repeat(8, 1), attention.repeat(8, 1)
    special = attention == 0
    inputs, labels = helpers.mask_tokens(
        ids, special, 4, 50, probability=0.5, generator=torch.Generator().manual_seed(0)
    )
    states = helpers.encoder_states(tiny_bert, inputs, attention, n_layers=1)
    embeddings = tiny_bert.embeddings.word_embeddings.weight
    runs = {}
    for train_layer in (False, True):
        torch.manual_seed(0)
        model = helpers.TopLayerMLM(tiny_bert.encoder.layer[1], embeddings, torch.arange(5, 50))
        targets = model.targets(labels)
        history = helpers.train_top_mlm(
            model, states, attention, targets, val=(states, attention, targets),
            train_layer=train_layer, steps=40, batch_size=8, lr=1e-3, head_lr=1e-2, eval_every=20,
        )  # fmt: skip
        assert history["val_step"] == [0, 20, 40]
        assert history["val_loss"][-1] < history["val_loss"][0] - 0.1
        runs[train_layer] = model
    original = tiny_bert.encoder.layer[1].output.dense.weight
    assert torch.equal(runs[False].layer.output.dense.weight, original)  # frozen: unchanged
    assert not torch.equal(runs[True].layer.output.dense.weight, original)
    with pytest.raises(ValueError, match="positive"):
        helpers.train_top_mlm(runs[True], states, attention, targets, steps=0)
