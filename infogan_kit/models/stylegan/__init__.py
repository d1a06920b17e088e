"""Style-based generator and residual discriminator in pure PyTorch (see :mod:`.generator`)."""

from .discriminator import ResidualDiscriminator
from .generator import INJECTIONS, LayerInputs, StyleGenerator
from .mapping import MappingNetwork
from .routing import parse_code_layers, routing_matrix
from .synthesis import RESOLUTIONS, SynthesisNetwork, block_resolutions, style_layer_resolutions

__all__ = [
    "INJECTIONS", "RESOLUTIONS", "LayerInputs", "MappingNetwork", "ResidualDiscriminator", "StyleGenerator",
    "SynthesisNetwork", "block_resolutions", "parse_code_layers", "routing_matrix", "style_layer_resolutions",
]
