"""bios740.attention computes what PyTorch's attention modules compute, to 1e-6."""

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from bios740 import attention

TOL = 1e-6


def _qkv(batch=2, heads=3, length=5, keys=7, d=4, dtype=torch.float64, seed=0):
    generator = torch.Generator().manual_seed(seed)
    q = torch.randn(batch, heads, length, d, generator=generator, dtype=dtype)
    k = torch.randn(batch, heads, keys, d, generator=generator, dtype=dtype)
    v = torch.randn(batch, heads, keys, d + 1, generator=generator, dtype=dtype)
    return q, k, v


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_attention_matches_pytorch_without_and_with_masks(dtype):
    q, k, v = _qkv(dtype=dtype)
    out, weights = attention.scaled_dot_product_attention(q, k, v)
    assert torch.allclose(out, F.scaled_dot_product_attention(q, k, v), atol=TOL)
    assert torch.allclose(weights.sum(-1), torch.ones((), dtype=dtype), atol=TOL)
    allowed = torch.rand(5, 7, generator=torch.Generator().manual_seed(1)) > 0.3
    allowed[:, 0] = True  # every query keeps at least one key
    out, weights = attention.scaled_dot_product_attention(q, k, v, attn_mask=allowed)
    assert torch.allclose(out, F.scaled_dot_product_attention(q, k, v, attn_mask=allowed), atol=TOL)
    assert (weights[..., ~allowed] == 0).all()
    additive = torch.randn(5, 7, dtype=dtype)
    out, _ = attention.scaled_dot_product_attention(q, k, v, attn_mask=additive)
    assert torch.allclose(
        out, F.scaled_dot_product_attention(q, k, v, attn_mask=additive), atol=TOL
    )


def test_causal_attention_matches_pytorch_and_never_sees_the_future():
    q, k, v = _qkv(keys=5)
    out, weights = attention.scaled_dot_product_attention(q, k, v, is_causal=True)
    assert torch.allclose(out, F.scaled_dot_product_attention(q, k, v, is_causal=True), atol=TOL)
    assert (weights.triu(diagonal=1) == 0).all() and (weights.diagonal(dim1=-2, dim2=-1) > 0).all()
    mask = attention.causal_mask(4)
    assert mask.tolist()[1] == [True, True, False, False]
    # Changing a later value must not change an earlier output.
    v2 = v.clone()
    v2[..., 3, :] += 10
    out2, _ = attention.scaled_dot_product_attention(q, k, v2, is_causal=True)
    assert torch.allclose(out[..., :3, :], out2[..., :3, :]) and not torch.allclose(out, out2)


def test_scale_and_errors():
    q, k, v = _qkv()
    out, _ = attention.scaled_dot_product_attention(q, k, v, scale=0.1)
    assert torch.allclose(out, F.scaled_dot_product_attention(q, k, v, scale=0.1), atol=TOL)
    by_hand = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(4), -1) @ v
    assert torch.allclose(attention.scaled_dot_product_attention(q, k, v)[0], by_hand)
    with pytest.raises(ValueError, match="same feature size"):
        attention.scaled_dot_product_attention(q, k[..., :3], v)
    with pytest.raises(ValueError, match="same length"):
        attention.scaled_dot_product_attention(q, k, v[..., :3, :])
    with pytest.raises(ValueError, match="broadcast"):
        attention.scaled_dot_product_attention(q, k, v, attn_mask=torch.ones(3, 3, dtype=bool))


def test_padding_mask_and_head_reshapes():
    assert attention.padding_mask([2, 4]).tolist() == [
        [False, False, True, True],
        [False, False, False, False],
    ]
    assert attention.padding_mask([1], max_length=3).shape == (1, 3)
    with pytest.raises(ValueError, match="exceeds"):
        attention.padding_mask([5], max_length=3)
    x = torch.arange(2 * 3 * 8.0).reshape(2, 3, 8)
    heads = attention.split_heads(x, 4)
    assert heads.shape == (2, 4, 3, 2)
    assert heads[0, 1, 2].tolist() == x[0, 2, 2:4].tolist()  # head 1 = features 2-3
    assert torch.equal(attention.merge_heads(heads), x)
    with pytest.raises(ValueError, match="divisible"):
        attention.split_heads(x, 3)


def _copy_mha(torch_mha):
    mine = attention.MultiHeadAttention(torch_mha.embed_dim, torch_mha.num_heads)
    mine.load_state_dict(torch_mha.state_dict())
    return mine.to(torch_mha.in_proj_weight.dtype)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_multi_head_attention_matches_nn_multiheadattention(dtype):
    torch.manual_seed(0)
    reference = nn.MultiheadAttention(8, 2, batch_first=True, dtype=dtype).eval()
    nn.init.normal_(reference.in_proj_bias)  # non-zero biases, so that they are checked
    mine = _copy_mha(reference).eval()
    x = torch.randn(3, 6, 8, dtype=dtype)
    memory = torch.randn(3, 4, 8, dtype=dtype)
    pad = attention.padding_mask([6, 3, 5])
    out, weights = mine(x, key_padding_mask=pad)
    ref_out, ref_weights = reference(x, x, x, key_padding_mask=pad, average_attn_weights=False)
    assert torch.allclose(out, ref_out, atol=TOL) and torch.allclose(weights, ref_weights, atol=TOL)
    causal = attention.causal_mask(6)
    out, _ = mine(x, attn_mask=causal, key_padding_mask=pad)
    ref_out, _ = reference(x, x, x, attn_mask=~causal, key_padding_mask=pad)  # True = blocked there
    assert torch.allclose(out, ref_out, atol=TOL)
    out, _ = mine(x, memory, memory)
    assert torch.allclose(out, reference(x, memory, memory)[0], atol=TOL)
    with pytest.raises(ValueError, match="key_padding_mask"):
        mine(x, key_padding_mask=pad[:, :3])


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_encoder_layer_matches_nn_transformerencoderlayer(norm_first, activation):
    torch.manual_seed(1)
    kwargs = dict(dim_feedforward=32, dropout=0.0, activation=activation, norm_first=norm_first)
    reference = nn.TransformerEncoderLayer(16, 4, batch_first=True, **kwargs).double().eval()
    mine = attention.TransformerEncoderLayer(16, 4, **kwargs).double().eval()
    mine.load_state_dict(reference.state_dict())
    x = torch.randn(2, 9, 16, dtype=torch.float64)
    pad = attention.padding_mask([9, 6])
    with torch.no_grad():
        assert torch.allclose(mine(x), reference(x), atol=TOL)
        # Padded positions' outputs are arbitrary in PyTorch's fast path: compare real ones.
        mine_out, ref_out = mine(x, key_padding_mask=pad), reference(x, src_key_padding_mask=pad)
        assert torch.allclose(mine_out[~pad], ref_out[~pad], atol=TOL)
    assert mine.attention_weights.shape == (2, 4, 9, 9)
    assert mine.attention_weights[1, :, :, 6:].abs().max() == 0
    # Also in training mode (no fast path), with gradients flowing.
    reference.train()
    mine.train()
    assert torch.allclose(mine(x), reference(x), atol=TOL)


def test_encoder_stack_matches_nn_transformerencoder():
    torch.manual_seed(2)
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True, norm_first=True)
    reference = nn.TransformerEncoder(
        layer, 2, norm=nn.LayerNorm(8), enable_nested_tensor=False
    ).eval()
    mine = attention.TransformerEncoder(2, 8, 2, 16, dropout=0.0, norm_first=True).eval()
    mine.load_state_dict(reference.state_dict())
    x = torch.randn(2, 5, 8)
    assert torch.allclose(mine(x), reference(x), atol=TOL)
    assert [m.shape for m in mine.attention_maps()] == [(2, 2, 5, 5)] * 2


def test_encoder_without_positions_is_permutation_equivariant():
    torch.manual_seed(3)
    encoder = attention.TransformerEncoder(2, 8, 2, 16, dropout=0.0).eval()
    x = torch.randn(1, 7, 8)
    order = torch.randperm(7)
    assert torch.allclose(encoder(x)[:, order], encoder(x[:, order]), atol=1e-5)
    positions = attention.SinusoidalPositionalEncoding(8)
    with_positions = encoder(positions(x))[:, order]
    assert not torch.allclose(with_positions, encoder(positions(x[:, order])), atol=1e-3)


def test_sinusoidal_encoding_values_and_relative_shift():
    pe = attention.sinusoidal_positional_encoding(50, 6, dtype=torch.float64)
    assert pe[0].tolist() == [0.0, 1.0, 0.0, 1.0, 0.0, 1.0]
    i = torch.arange(3, dtype=torch.float64)
    p = 7
    assert torch.allclose(pe[p, 0::2], torch.sin(p / 10000 ** (2 * i / 6)))
    assert torch.allclose(pe[p, 1::2], torch.cos(p / 10000 ** (2 * i / 6)))
    # PE[p + k] is a fixed rotation of PE[p] (same for every p).
    k = 3
    solution = torch.linalg.lstsq(pe[:40], pe[k : 40 + k]).solution
    assert torch.allclose(pe[10:30] @ solution, pe[10 + k : 30 + k], atol=1e-8)
    with pytest.raises(ValueError, match="even d_model"):
        attention.sinusoidal_positional_encoding(5, 3)


def test_positional_modules_and_lengths():
    x = torch.zeros(2, 5, 4)
    assert torch.allclose(
        attention.SinusoidalPositionalEncoding(4)(x)[0],
        attention.sinusoidal_positional_encoding(5, 4),
    )
    learned = attention.LearnedPositionalEncoding(4, max_length=5)
    assert learned(x).shape == x.shape
    with pytest.raises(ValueError, match="max_length"):
        learned(torch.zeros(1, 6, 4))


def test_flop_counts_grow_quadratically_only_in_attention():
    short, long = attention.encoder_flops(100, 64, 256), attention.encoder_flops(200, 64, 256)
    assert long["attention"] == 4 * short["attention"]
    assert long["projections"] == 2 * short["projections"]
    assert long["feed_forward"] == 2 * short["feed_forward"]
    with pytest.raises(ValueError):
        attention.encoder_flops(0, 64, 256)
