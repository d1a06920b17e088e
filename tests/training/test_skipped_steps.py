"""A step with a NaN/Inf in its batch, a gradient or a loss is skipped without a trace.

After the skip the parameters, the optimizer state (step counts included), every buffer (batch-norm
statistics, spectral-norm vectors) and the EMA copies are bit-equal to before; the skip is counted.
Exception, documented in training/skip.py: fp16's GradScaler halves its scale.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import torch

from infogan_kit.training.context import PhaseContext
from infogan_kit.training import loop
from infogan_kit.training.loop import Trainer

from ..conftest import tiny_config


def _state(trainer: Trainer) -> dict[str, torch.Tensor]:
    state = {}
    for prefix, modules in (("net", trainer.model.networks), ("ema", trainer.model.ema)):
        for name, module in modules.items():
            state.update({f"{prefix}.{name}.{k}": v.clone() for k, v in module.state_dict().items()})
    for name, optimizer in trainer.optimizers.items():
        for index, (param, values) in enumerate(optimizer.state.items()):
            state.update({f"opt.{name}.{index}.{k}": v.clone() for k, v in values.items() if torch.is_tensor(v)})
    return state


def _poisoned_batches(trainer: Trainer):
    batch = next(trainer.batches)
    batch.real_images[0, 0, 0, 0] = float("nan")
    return itertools.chain([batch], trainer.batches)


def _is_buffer(key: str) -> bool:
    return "running_" in key or "num_batches" in key or key.endswith(("._u", "._v"))


@pytest.mark.parametrize("precision", ["fp32", "bf16", "fp16"])
@pytest.mark.parametrize("fault", ["loss", "gradient", "batch"])
def test_non_finite_step_leaves_no_trace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, precision: str, fault: str) -> None:
    trainer = Trainer(tiny_config("infogan", steps=10, precision=precision, batch_size=8), tmp_path)
    for _ in range(2):
        trainer.train_step()
    while precision == "fp16" and int(trainer.skipped_consecutive) > 0:  # the scaler's own calibration skips
        trainer.train_step()
    skipped_before = int(trainer.skipped_total)
    before = _state(trainer)
    if fault == "loss":  # every phase's loss is NaN: the whole step is skipped
        original = PhaseContext.backward
        monkeypatch.setattr(PhaseContext, "backward", lambda self, loss: original(self, loss * float("nan")))
    elif fault == "gradient":  # one gradient of every phase turns Inf after the backward: the whole step is skipped
        monkeypatch.setattr(loop, "average_gradients", lambda grads, dist: grads[0].fill_(float("inf")))
    else:  # a NaN pixel in the real batch: only D's phase sees it
        trainer.batches = _poisoned_batches(trainer)
    trainer.train_step()
    monkeypatch.undo()
    after = _state(trainer)
    if fault in ("loss", "gradient"):
        assert int(trainer.skipped_total) - skipped_before == 2  # phases D and G
        changed = sorted(key for key in before if not torch.equal(before[key], after[key]))
        assert changed == [], f"changed by a skipped step: {changed[:5]}"
    else:
        assert int(trainer.skipped_total) - skipped_before == 1
        d_owned = {id(p) for group in trainer.optimizers["D"].param_groups for p in group["params"]}
        for key, param in trainer.model.networks["D"].named_parameters():
            if id(param) in d_owned:
                assert torch.equal(before[f"net.D.{key}"], after[f"net.D.{key}"]), key
        assert all(torch.equal(before[k], after[k]) for k in before if k.startswith("opt.D."))
        ema_params = [k for k in before if k.startswith("ema.") and not _is_buffer(k)]
        assert ema_params and all(torch.equal(before[k], after[k]) for k in ema_params), "EMA moved on a skipped step"
        assert all(torch.isfinite(after[k].float()).all() for k in after if _is_buffer(k)), "a buffer was poisoned"
    trainer.train_step()  # and training goes on
    assert int(trainer.skipped_consecutive) == 0 and all(torch.isfinite(v.float()).all() for v in _state(trainer).values())
