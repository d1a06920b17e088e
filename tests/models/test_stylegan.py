"""Style-based networks: shapes through every layer, demodulation, code routing, truncation, mixing."""

from __future__ import annotations

import pytest
import torch

from infogan_kit.errors import ConfigError
from infogan_kit.models.stylegan import (
    ResidualDiscriminator,
    StyleGenerator,
    parse_code_layers,
    routing_matrix,
    style_layer_resolutions,
)
from infogan_kit.models.stylegan.layers import ModulatedConv2d
from infogan_kit.models.stylegan.synthesis import SynthesisLayer, ToRGB

TINY = {"w_dim": 8, "mapping_layers": 2, "channel_base": 256, "channel_max": 16}


def _channels(resolution: int) -> int:
    return max(1, min(256 // resolution, 16))


def _generator(injection: str = "w-space", resolution: int = 64, routing: torch.Tensor | None = None, code_dim: int = 4) -> StyleGenerator:
    torch.manual_seed(0)
    return StyleGenerator(code_dim, 3, resolution, 1, injection, routing, **TINY).eval()


@pytest.mark.parametrize("resolution", [64, 128])
def test_generator_shapes_through_every_layer(resolution: int) -> None:
    generator = _generator(resolution=resolution)
    blocks = generator.synthesis.blocks
    assert [b.resolution for b in blocks] == [2**i for i in range(2, resolution.bit_length())]
    assert generator.num_layers == len(generator.layer_names()) == (14 if resolution == 64 else 17)
    seen: list[tuple[str, tuple[int, ...]]] = []
    hooks = [
        module.register_forward_hook(lambda m, args, out, name=name: seen.append((name, tuple(out.shape))))
        for name, module in generator.named_modules() if isinstance(module, (SynthesisLayer, ToRGB))
    ]
    images = generator(torch.randn(2, 7))
    for hook in hooks:
        hook.remove()
    assert tuple(images.shape) == (2, 1, resolution, resolution)
    assert len(seen) == generator.num_layers
    expected = []
    for block in blocks:
        r = block.resolution
        expected += [(2, _channels(r), r, r)] * len(block.convs) + [(2, 1, r, r)]
    assert [shape for _, shape in seen] == expected
    assert len(generator.styles(generator.layer_inputs(torch.randn(2, 7)))) == generator.num_layers


@pytest.mark.parametrize("resolution", [64, 128])
def test_discriminator_shapes_through_every_block(resolution: int) -> None:
    torch.manual_seed(0)
    discriminator = ResidualDiscriminator((3, resolution, resolution), q_dim=5, channel_base=256, channel_max=16)
    shapes = []
    hooks = [block.register_forward_hook(lambda m, a, out: shapes.append(tuple(out.shape))) for block in discriminator.blocks]
    logits, q_params = discriminator(torch.rand(4, 3, resolution, resolution))
    for hook in hooks:
        hook.remove()
    sizes = [resolution // 2**i for i in range(1, len(shapes) + 1)]
    assert shapes == [(4, _channels(s), s, s) for s in sizes] and sizes[-1] == 4
    assert logits.shape == (4,) and q_params.shape == (4, 5)


def test_q_head_does_not_depend_on_the_rest_of_the_batch() -> None:
    torch.manual_seed(0)
    discriminator = ResidualDiscriminator((1, 64, 64), q_dim=3, channel_base=256, channel_max=16)
    images = torch.rand(8, 1, 64, 64)
    alone = discriminator.q_params(images[:1])
    with_others = discriminator(images)[1][:1]
    assert torch.allclose(alone, with_others, atol=1e-5)
    # the D head does see the batch (minibatch stddev)
    assert not torch.allclose(discriminator.logits(images[:4])[:1], discriminator.logits(torch.cat([images[:1]] * 4))[:1])


def test_demodulation_keeps_unit_variance() -> None:
    torch.manual_seed(0)
    conv = ModulatedConv2d(64, 32, 3, demodulate=True)
    x = torch.randn(16, 64, 20, 20)
    styles = torch.exp(torch.randn(16, 64))  # styles of very different scales per sample and channel
    out = conv(x, styles)[:, :, 1:-1, 1:-1]  # interior: no zero padding in the receptive field
    per_channel = out.transpose(0, 1).reshape(32, -1).var(dim=1)
    assert abs(out.var().item() - 1) < 0.05
    assert (per_channel - 1).abs().max() < 0.15
    plain = ModulatedConv2d(64, 32, 3, demodulate=False)
    plain.weight.data.copy_(conv.weight.data)
    assert plain(x, styles * 3)[:, :, 1:-1, 1:-1].var() > 4  # without demodulation the style scale passes through


def _changed_layers(generator: StyleGenerator, first: torch.Tensor, second: torch.Tensor) -> tuple[list[int], list[int], list[int]]:
    """(layers whose style changed, layers whose w changed, layers whose codes changed)."""
    a, b = generator.layer_inputs(first), generator.layer_inputs(second)
    styles = [i for i, (s, t) in enumerate(zip(generator.styles(a), generator.styles(b), strict=True)) if not torch.allclose(s, t)]
    ws = [i for i in range(generator.num_layers) if not torch.equal(a.ws[:, i], b.ws[:, i])]
    codes = [] if a.codes is None else [i for i in range(generator.num_layers) if not torch.equal(a.codes[:, i], b.codes[:, i])]
    return styles, ws, codes


def _with_code(latent_input: torch.Tensor, column: int, value: float) -> torch.Tensor:
    changed = latent_input.clone()
    changed[:, column] = value
    return changed


def test_z_concat_routes_codes_through_w_to_every_layer() -> None:
    generator = _generator("z-concat")
    x = torch.randn(3, 7)
    styles, ws, codes = _changed_layers(generator, x, _with_code(x, 1, 0.9))
    everything = list(range(generator.num_layers))
    assert styles == everything and ws == everything and codes == []
    assert generator.layer_inputs(x).codes is None


def test_w_space_appends_codes_to_every_layer_and_leaves_w_alone() -> None:
    generator = _generator("w-space")
    x = torch.randn(3, 7)
    styles, ws, codes = _changed_layers(generator, x, _with_code(x, 2, -0.8))
    everything = list(range(generator.num_layers))
    assert ws == [] and codes == everything and styles == everything
    # noise still reaches every layer through w
    _, ws_noise, codes_noise = _changed_layers(generator, x, _with_code(x, 5, 2.0))
    assert ws_noise == everything and codes_noise == []


def test_per_layer_routes_each_code_only_to_its_blocks() -> None:
    names = ["cat1", "c1", "c2"]  # cat1: 2 one-hot columns, c1, c2 -> code_dim 4
    resolutions = [4, 8, 16, 32, 64]
    routes = parse_code_layers("cat1=4; c1=16-32", names, resolutions)
    assert routes == {"cat1": [4], "c1": [16, 32], "c2": resolutions}
    layer_resolutions = style_layer_resolutions(64)
    matrix = routing_matrix(routes, {"cat1": [0, 1], "c1": [2], "c2": [3]}, 4, layer_resolutions)
    generator = _generator("per-layer", routing=matrix)
    x = torch.randn(3, 7)
    x[:, :2] = torch.tensor([1.0, 0.0])
    expected = {
        0: [i for i, r in enumerate(layer_resolutions) if r == 4],
        2: [i for i, r in enumerate(layer_resolutions) if r in (16, 32)],
        3: list(range(generator.num_layers)),
    }
    assert expected[0] == [0, 1] and expected[2] == [5, 6, 7, 8, 9, 10]
    for column, layers in expected.items():
        styles, ws, codes = _changed_layers(generator, x, _with_code(x, column, 0.7))
        assert ws == [] and codes == layers and styles == layers, column
    images = generator(x), generator(_with_code(x, 2, 0.7))
    assert not torch.allclose(*images)


def test_auto_routing_and_bad_specs() -> None:
    routes = parse_code_layers("auto", ["c1", "c2", "c3", "c4", "c5"], [4, 8, 16, 32, 64])
    assert routes == {"c1": [4], "c2": [8], "c3": [16], "c4": [32], "c5": [4]}
    assert parse_code_layers("auto", ["c1", "c2"], [4, 8, 16, 32, 64]) == {"c1": [4, 8], "c2": [16, 32]}
    for bad in ("c9=4", "c1=5", "c1", "c1=4-7"):
        with pytest.raises(ConfigError):
            parse_code_layers(bad, ["c1", "c2"], [4, 8, 16, 32, 64])


def test_truncation_pulls_w_to_its_average_but_keeps_codes() -> None:
    generator = _generator("w-space")
    generator.mapping.w_avg.copy_(torch.randn(8))
    x = torch.randn(4, 7)
    inputs = generator.layer_inputs(x, truncation_psi=0.0)
    assert torch.allclose(inputs.ws, generator.mapping.w_avg.expand(4, generator.num_layers, 8))
    assert torch.equal(inputs.codes[:, 0], x[:, :4])
    other_noise = torch.cat([x[:, :4], torch.randn(4, 3)], dim=1)
    assert torch.allclose(generator(x, truncation_psi=0.0), generator(other_noise, truncation_psi=0.0), atol=1e-6)
    half = generator.layer_inputs(x, truncation_psi=0.5).ws
    assert torch.allclose(half, 0.5 * (generator.layer_inputs(x).ws + generator.mapping.w_avg), atol=1e-6)


def test_training_forward_updates_w_avg_only_when_asked() -> None:
    generator = _generator("w-space").train()
    generator(torch.randn(8, 7))
    assert torch.count_nonzero(generator.mapping.w_avg) == 0
    generator(torch.randn(8, 7), update_w_avg=True)
    assert torch.count_nonzero(generator.mapping.w_avg) == 8


def test_style_mixing_swaps_w_after_a_cutoff_and_keeps_codes() -> None:
    generator = _generator("w-space")
    x = torch.randn(4, 7)
    torch.manual_seed(3)
    mixed = generator.layer_inputs(x, mixing_prob=1.0)
    plain = generator.layer_inputs(x)
    same = [torch.equal(mixed.ws[:, i], plain.ws[:, i]) for i in range(generator.num_layers)]
    cutoff = same.index(False)
    assert 1 <= cutoff < generator.num_layers and all(same[:cutoff]) and not any(same[cutoff:])
    assert torch.equal(mixed.codes, plain.codes)
    assert torch.equal(generator.layer_inputs(x, mixing_prob=0.0).ws, plain.ws)
    grid = StyleGenerator.mix(plain, mixed, 2)
    assert torch.equal(grid.ws[:, :2], plain.ws[:, :2]) and torch.equal(grid.ws[:, 2:], mixed.ws[:, 2:])


def test_const_noise_is_deterministic_and_random_noise_is_not() -> None:
    generator = _generator("w-space")
    for layer in generator.synthesis.style_layers():
        if hasattr(layer, "noise"):
            layer.noise.strength.data.fill_(1.0)
    x = torch.randn(2, 7)
    assert torch.equal(generator(x, noise_mode="const"), generator(x, noise_mode="const"))
    assert not torch.equal(generator(x, noise_mode="random"), generator(x, noise_mode="random"))


def test_invalid_generator_arguments() -> None:
    with pytest.raises(ValueError, match="injection"):
        StyleGenerator(2, 3, 64, 1, "nowhere", **TINY)
    with pytest.raises(ValueError, match="routing"):
        StyleGenerator(2, 3, 64, 1, "per-layer", None, **TINY)
    with pytest.raises(ValueError, match="64 or 128"):
        StyleGenerator(2, 3, 32, 1, "w-space", **TINY)
