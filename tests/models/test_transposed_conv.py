"""TransposedConv2d: the same function, gradients and state_dict as nn.ConvTranspose2d."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.autograd import gradcheck, gradgradcheck
from torch.func import functional_call

from infogan_kit.models.infogan_nets import Discriminator, Generator
from infogan_kit.models.transposed_conv import PHASE_PATH_MAX_OUT_CHANNELS, TransposedConv2d, reference_layers
from infogan_kit.models.vae_nets import ConvEncoder, DeconvDecoder

# 1 takes the phase path (<= PHASE_PATH_MAX_OUT_CHANNELS), 3 and 8 the convolution-backward path
OUT_CHANNELS = [1, 3, 8]


def _layer_and_input(out_channels: int, channels_last: bool, dtype: torch.dtype = torch.float64):
    torch.manual_seed(out_channels)
    layer = TransposedConv2d(5, out_channels, 4, 2, 1).to(dtype)
    inputs = torch.randn(3, 5, 4, 6, dtype=dtype)
    if channels_last:
        inputs = inputs.contiguous(memory_format=torch.channels_last)
    return layer, inputs.requires_grad_(True)


def test_both_paths_are_exercised() -> None:
    assert min(OUT_CHANNELS) <= PHASE_PATH_MAX_OUT_CHANNELS < max(OUT_CHANNELS)


@pytest.mark.parametrize("out_channels", OUT_CHANNELS)
@pytest.mark.parametrize("channels_last", [False, True])
def test_matches_stock_layer_forward_and_gradients(out_channels: int, channels_last: bool) -> None:
    layer, inputs = _layer_and_input(out_channels, channels_last)
    stock = reference_layers(layer)
    assert type(stock) is nn.ConvTranspose2d
    outputs, expected = layer(inputs), stock(inputs)
    assert outputs.shape == (3, out_channels, 8, 12)
    torch.testing.assert_close(outputs, expected, rtol=1e-12, atol=1e-12)
    upstream = torch.randn_like(outputs)
    ours = torch.autograd.grad(outputs, [inputs, layer.weight, layer.bias], upstream)
    theirs = torch.autograd.grad(expected, [inputs, stock.weight, stock.bias], upstream)
    for got, want in zip(ours, theirs):
        torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("out_channels", OUT_CHANNELS)
def test_gradcheck_and_double_backward(out_channels: int) -> None:
    """Gradients with respect to input, weight and bias, and their gradients (penalties)."""
    layer, inputs = _layer_and_input(out_channels, channels_last=True)
    inputs = inputs.detach()[:1, :, :3, :3].contiguous(memory_format=torch.channels_last).requires_grad_(True)
    weight = layer.weight.detach().clone().requires_grad_(True)
    bias = layer.bias.detach().clone().requires_grad_(True)

    def apply(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return functional_call(layer, {"weight": w, "bias": b}, (x,))

    assert gradcheck(apply, (inputs, weight, bias))
    assert gradgradcheck(apply, (inputs, weight, bias))


@pytest.mark.parametrize("out_channels", OUT_CHANNELS)
def test_bf16_autocast_close_to_stock(out_channels: int) -> None:
    layer, inputs = _layer_and_input(out_channels, channels_last=True, dtype=torch.float32)
    stock = reference_layers(layer)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        outputs, expected = layer(inputs), stock(inputs)
    assert outputs.dtype == expected.dtype == torch.bfloat16
    torch.testing.assert_close(outputs.float(), expected.float(), rtol=2e-2, atol=2e-2)
    grads = torch.autograd.grad(outputs.float().square().sum(), [layer.weight, inputs])
    assert grads[0].dtype == torch.float32 and torch.isfinite(grads[0]).all()
    stock_grads = torch.autograd.grad(expected.float().square().sum(), [stock.weight, inputs])
    for got, want in zip(grads, stock_grads):
        torch.testing.assert_close(got.float(), want.float(), rtol=5e-2, atol=5e-2 * float(want.abs().max()))


def test_state_dict_is_the_stock_layers() -> None:
    stock = nn.ConvTranspose2d(4, 2, 4, 2, 1)
    layer = TransposedConv2d(4, 2, 4, 2, 1)
    assert list(layer.state_dict()) == list(stock.state_dict())
    layer.load_state_dict(stock.state_dict())
    inputs = torch.randn(2, 4, 5, 5)
    torch.testing.assert_close(layer(inputs), stock(inputs))


@pytest.mark.parametrize("geometry", [dict(stride=1, padding=0), dict(stride=2, padding=1, output_padding=1), dict(stride=2, padding=2)])
def test_other_geometries_fall_back_to_the_stock_forward(geometry: dict) -> None:
    torch.manual_seed(0)
    layer = TransposedConv2d(3, 2, 4, **geometry)
    inputs = torch.randn(2, 3, 5, 5)
    torch.testing.assert_close(layer(inputs), reference_layers(layer)(inputs))


def test_reference_layers_keeps_weights_and_turns_off_inplace() -> None:
    decoder = DeconvDecoder(1, 10)
    reference = reference_layers(decoder)
    assert not any(isinstance(m, TransposedConv2d) for m in reference.modules())
    assert not any(getattr(m, "inplace", False) for m in reference.modules())
    assert any(getattr(m, "inplace", False) for m in decoder.modules()), "the original is left as it was"
    for (name, ours), (other, theirs) in zip(decoder.state_dict().items(), reference.state_dict().items()):
        assert name == other and torch.equal(ours, theirs)


@pytest.mark.parametrize(
    "make",
    [
        lambda: Generator(10, (1, 64, 64)),
        lambda: Generator(74, (1, 28, 28), "mnist"),
        lambda: Discriminator((1, 64, 64), 10),
        lambda: DeconvDecoder(1, 10),
        lambda: ConvEncoder(1, 10),
    ],
    ids=["generator", "generator-mnist", "discriminator", "decoder", "encoder"],
)
def test_networks_match_their_textbook_copy(make) -> None:
    """In-place activations and TransposedConv2d change nothing: same outputs and gradients."""
    torch.manual_seed(0)
    network = make().double().train()
    reference = reference_layers(network)
    first = network.fc[0] if hasattr(network, "fc") else None
    width = first.in_features if isinstance(first, nn.Linear) else None
    inputs = torch.randn(4, width, dtype=torch.double) if width else torch.rand(4, 1, 64, 64, dtype=torch.double)
    outputs, expected = network(inputs), reference(inputs)
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    expected = expected if isinstance(expected, tuple) else (expected,)
    loss = sum((o.square() * (1 + i)).sum() for i, o in enumerate(outputs))
    loss_reference = sum((o.square() * (1 + i)).sum() for i, o in enumerate(expected))
    for got, want in zip(outputs, expected):
        torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-10)
    ours = torch.autograd.grad(loss, list(network.parameters()))
    theirs = torch.autograd.grad(loss_reference, list(reference.parameters()))
    for got, want in zip(ours, theirs):
        torch.testing.assert_close(got, want, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("out_channels", OUT_CHANNELS)
def test_output_takes_an_inplace_activation(out_channels: int) -> None:
    """The output is a tensor of its own (not a view), so the next layer may work in place."""
    layer, inputs = _layer_and_input(out_channels, channels_last=True)
    stock = reference_layers(layer)
    outputs = torch.nn.functional.leaky_relu(layer(inputs), 0.2, inplace=True)
    expected = torch.nn.functional.leaky_relu(stock(inputs), 0.2)
    torch.testing.assert_close(outputs, expected, rtol=1e-12, atol=1e-12)
    grads = torch.autograd.grad(outputs.sum(), [inputs, layer.weight])
    stock_grads = torch.autograd.grad(expected.sum(), [inputs, stock.weight])
    for got, want in zip(grads, stock_grads):
        torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)
