"""A drop-in ``nn.ConvTranspose2d`` with a faster CPU path for the 4x4, stride-2 upsampling layers.

Every InfoGAN and VAE decoder here upsamples with ``ConvTranspose2d(C_in, C_out, 4, stride=2,
padding=1)``. On the CPU, PyTorch's oneDNN transposed-convolution *backward* is about twice as
slow as the same arithmetic written with the ordinary convolution primitives (measured in
``bench/train.py``'s VAE step: the 32 -> 32 channel layer at 32x32 took 6.3 ms forward and
backward, 3.5 ms this way, on 2 threads), and a transposed convolution with one output channel
(the image layer) is slow in both directions. :class:`TransposedConv2d` keeps the
parameters, the ``state_dict`` and the results of ``nn.ConvTranspose2d`` and computes:

* **general path** (:class:`_ConvTransposeFunction`): the forward is ``F.conv_transpose2d``; the
  backward is the adjoint written with convolutions. For ``y = conv_transpose2d(x, W)``:

      dL/dx = conv2d(dL/dy, W, stride, padding)            (a strided convolution)
      dL/dW = the weight gradient of conv2d(dL/dy -> x), i.e. convolution_backward with
              ``grad_output = x`` and ``input = dL/dy``, whose [C_in, C_out, k, k] result is
              exactly the transposed convolution's weight layout
      dL/db = sum of dL/dy over batch, height and width

* **one output channel** (``C_out = 1``, the image layer of grey-scale data,
  :class:`_PhaseConvTransposeFunction`): a 4x4, stride-2, padding-1 transposed convolution is a
  matrix product followed by a sum over the 2x2 output phases. With ``x`` channels-last
  (``[n h w, C_in]`` rows) and ``cols = rows @ W.reshape(C_in, C_out 16)``, output pixel
  ``(2m + p, 2q + r)`` is the sum of four entries of ``cols`` (summed in fp32, like oneDNN's
  accumulator, whatever the autocast dtype): kernel rows ``ky`` in {1, 3} (from input rows m and
  m - 1) for even ``p`` and {0, 2} (rows m + 1 and m) for odd ``p``, the same for columns. The
  backward gathers those 16 strided views of ``dL/dy`` back into ``cols``' layout and
  multiplies. (With two or more output channels this was slower than the general path.)

Both paths are written with differentiable operations, so double backward (gradient penalties)
works. The fast paths run on the CPU only; on CUDA (cuDNN's own kernels) and for any other
geometry the layer is plain ``nn.ConvTranspose2d``.
"""

from __future__ import annotations

import contextlib
import copy
from typing import Iterator

import torch
import torch.nn.functional as F
from torch import nn

PHASE_PATH_MAX_OUT_CHANNELS = 1

_FAST_PATHS = {"enabled": True}


@contextlib.contextmanager
def cpu_fast_paths(enabled: bool) -> Iterator[None]:
    """Switch the CPU fast paths on or off inside a ``with`` block (the op-budget test counts the
    ops of the stock layers, which are what CUDA runs)."""
    previous = _FAST_PATHS["enabled"]
    _FAST_PATHS["enabled"] = enabled
    try:
        yield
    finally:
        _FAST_PATHS["enabled"] = previous
"""Transposed convolutions with at most this many output channels take the phase path."""

# (kernel row ky, input row offset dy) of the two taps of an even / odd output row: output row
# 2m + p takes input row m + dy through kernel row ky (ky = 2m + p + 1 - 2(m + dy)).
_TAPS = {0: ((1, 0), (3, -1)), 1: ((0, 1), (2, 0))}


def _compute_dtype(tensor: torch.Tensor) -> torch.dtype:
    """The dtype a convolution on ``tensor`` runs in under the current autocast state."""
    device_type = tensor.device.type
    try:
        enabled = torch.is_autocast_enabled(device_type)
    except TypeError:  # torch < 2.4: per-device functions
        enabled = torch.is_autocast_cpu_enabled() if device_type == "cpu" else torch.is_autocast_enabled()
        return (torch.get_autocast_cpu_dtype() if device_type == "cpu" else torch.get_autocast_gpu_dtype()) if enabled else tensor.dtype
    return torch.get_autocast_dtype(device_type) if enabled else tensor.dtype


class _ConvTransposeFunction(torch.autograd.Function):
    """``conv_transpose2d(x, weight, bias, stride, padding)`` with a convolution-based backward."""

    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding):  # type: ignore[override]
        ctx.save_for_backward(x, weight)
        ctx.stride, ctx.padding, ctx.has_bias = stride, padding, bias is not None
        return F.conv_transpose2d(x, weight, bias, stride, padding)

    @staticmethod
    def backward(ctx, grad_output):  # type: ignore[override]
        x, weight = ctx.saved_tensors
        grad_output = grad_output.contiguous(memory_format=_memory_format(x))
        grad_x = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0]:
            grad_x = F.conv2d(grad_output, weight, None, ctx.stride, ctx.padding)
        if ctx.needs_input_grad[1]:
            grad_weight = torch.ops.aten.convolution_backward(
                x, grad_output, weight, None, ctx.stride, ctx.padding, (1, 1), False, (0, 0), 1, (False, True, False)
            )[1]
        if ctx.has_bias and ctx.needs_input_grad[2]:
            grad_bias = grad_output.sum((0, 2, 3))
        return grad_x, grad_weight, grad_bias, None, None


class _PhaseConvTransposeFunction(torch.autograd.Function):
    """4x4, stride-2, padding-1 transposed convolution as ``rows @ W`` plus output-phase sums."""

    @staticmethod
    def forward(ctx, x, weight, bias):  # type: ignore[override]
        n, in_channels, height, width = x.shape
        out_channels = weight.shape[1]
        rows = x.permute(0, 2, 3, 1).reshape(n * height * width, in_channels)
        cols = (rows @ weight.reshape(in_channels, out_channels * 16)).view(n, height, width, out_channels, 4, 4)
        accumulate = torch.promote_types(cols.dtype, torch.float32)  # phase sums in fp32
        # output[n, 2m + p, 2q + r, c] = phases[n, m, p, q, r, c]
        phases = torch.zeros(n, height, 2, width, 2, out_channels, dtype=accumulate, device=x.device)
        if bias is not None:
            phases += bias.to(accumulate)
        for row_parity in (0, 1):
            for ky, dy in _TAPS[row_parity]:
                for col_parity in (0, 1):
                    for kx, dx in _TAPS[col_parity]:
                        # input row m + dy feeds output row 2m + p: keep the rows where it exists
                        target = phases[:, max(0, -dy) : height - max(0, dy), row_parity, max(0, -dx) : width - max(0, dx), col_parity]
                        target += cols[:, max(0, dy) : height + min(0, dy), max(0, dx) : width + min(0, dx), :, ky, kx]
        # a fresh channels-last tensor, not a view: later layers may apply in-place activations
        output = torch.empty(n, out_channels, 2 * height, 2 * width, dtype=x.dtype, device=x.device, memory_format=torch.channels_last)
        output.permute(0, 2, 3, 1).copy_(phases.view(n, 2 * height, 2 * width, out_channels))
        ctx.save_for_backward(x, weight)  # the inputs themselves, so that double backward is tracked
        ctx.has_bias = bias is not None
        return output

    @staticmethod
    def backward(ctx, grad_output):  # type: ignore[override]
        x, weight = ctx.saved_tensors
        n, in_channels, height, width = x.shape
        out_channels = weight.shape[1]
        rows = x.permute(0, 2, 3, 1).reshape(n * height * width, in_channels)
        weight_matrix = weight.reshape(in_channels, out_channels * 16)
        padded = F.pad(grad_output.permute(0, 2, 3, 1), (0, 0, 1, 1, 1, 1))  # [n, 2h + 2, 2w + 2, C_out]
        # output row 2i - 1 + ky of input row i sits at padded row 2i + ky
        taps = [padded[:, ky : ky + 2 * height : 2, kx : kx + 2 * width : 2] for ky in range(4) for kx in range(4)]
        grad_cols = torch.stack(taps, dim=-1).reshape(n * height * width, out_channels * 16)
        grad_x = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0]:
            grad_x = (grad_cols @ weight_matrix.t()).view(n, height, width, in_channels).permute(0, 3, 1, 2)
        if ctx.needs_input_grad[1]:
            grad_weight = (rows.t() @ grad_cols).view(in_channels, out_channels, 4, 4)
        if ctx.has_bias and ctx.needs_input_grad[2]:
            grad_bias = grad_output.sum((0, 2, 3))
        return grad_x, grad_weight, grad_bias


def _memory_format(tensor: torch.Tensor) -> torch.memory_format:
    return torch.channels_last if tensor.dim() == 4 and tensor.is_contiguous(memory_format=torch.channels_last) else torch.contiguous_format


class TransposedConv2d(nn.ConvTranspose2d):
    """``nn.ConvTranspose2d`` (same arguments, parameters and ``state_dict``) with the faster CPU
    paths of this module for kernel 4, stride 2, padding 1 (no groups, dilation or output
    padding). Input ``[n, C_in, h, w]`` -> output ``[n, C_out, 2h, 2w]``; any other geometry,
    device or input rank runs ``nn.ConvTranspose2d.forward``."""

    def _fast_path(self, x: torch.Tensor) -> bool:
        return (
            _FAST_PATHS["enabled"]
            and x.device.type == "cpu"
            and x.dim() == 4
            and self.kernel_size == (4, 4)
            and self.stride == (2, 2)
            and self.padding == (1, 1)
            and self.output_padding == (0, 0)
            and self.dilation == (1, 1)
            and self.groups == 1
            and self.padding_mode == "zeros"
        )

    def forward(self, x: torch.Tensor, output_size: list[int] | None = None) -> torch.Tensor:
        """``[n, C_in, h, w]`` -> ``[n, C_out, 2h, 2w]`` (see the class docstring)."""
        if output_size is not None or not self._fast_path(x):
            return super().forward(x, output_size)
        dtype = _compute_dtype(x)
        weight = self.weight.to(dtype)
        bias = self.bias.to(dtype) if self.bias is not None else None
        with torch.autocast(x.device.type, enabled=False):
            x = x.to(dtype)
            if self.out_channels <= PHASE_PATH_MAX_OUT_CHANNELS:
                return _PhaseConvTransposeFunction.apply(x.contiguous(memory_format=torch.channels_last), weight, bias)
            return _ConvTransposeFunction.apply(x, weight, bias, self.stride, self.padding)


def _stock_transposed_conv(layer: TransposedConv2d) -> nn.ConvTranspose2d:
    """An ``nn.ConvTranspose2d`` with ``layer``'s geometry and weights."""
    stock = nn.ConvTranspose2d(
        layer.in_channels, layer.out_channels, layer.kernel_size, layer.stride, layer.padding, layer.output_padding,
        layer.groups, layer.bias is not None, layer.dilation, layer.padding_mode, device=layer.weight.device, dtype=layer.weight.dtype,
    )
    stock.load_state_dict(layer.state_dict())
    return stock


def reference_layers(module: nn.Module) -> nn.Module:
    """A deep copy of ``module`` in textbook layers: every :class:`TransposedConv2d` becomes an
    ``nn.ConvTranspose2d`` with the same weights and every in-place activation an out-of-place
    one. Same function, PyTorch's stock kernels (what tests and benchmarks compare against)."""
    if isinstance(module, TransposedConv2d):
        return _stock_transposed_conv(module)
    reference = copy.deepcopy(module)
    for parent in reference.modules():
        for name, child in list(parent.named_children()):
            if isinstance(child, TransposedConv2d):
                setattr(parent, name, _stock_transposed_conv(child))
            elif hasattr(child, "inplace"):
                child.inplace = False
    return reference
