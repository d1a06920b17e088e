"""Every persistent tensor of a training run keeps its storage across steps, a schedule change and
an H re-initialization (what captured CUDA graphs replay on): parameters, optimizer states, EMA
copies, buffers and the schedule tensors."""

from __future__ import annotations

from pathlib import Path

import torch

from infogan_kit.training.loop import Trainer

from ..conftest import tiny_config


def _storages(trainer: Trainer) -> dict[str, int]:
    found = {}
    for prefix, modules in (("net", trainer.model.networks), ("ema", trainer.model.ema)):
        for name, module in modules.items():
            for key, tensor in module.state_dict(keep_vars=True).items():
                found[f"{prefix}.{name}.{key}"] = tensor.untyped_storage().data_ptr()
    for name, optimizer in trainer.optimizers.items():
        for index, state in enumerate(optimizer.state.values()):
            for key, value in state.items():
                if torch.is_tensor(value):
                    found[f"opt.{name}.{index}.{key}"] = value.untyped_storage().data_ptr()
    found["ema_weight"] = trainer._ema_weight.untyped_storage().data_ptr()
    return found


def test_storage_survives_steps_a_schedule_change_and_an_h_reinitialization(tmp_path: Path) -> None:
    config = tiny_config("infogan-cr", steps=100, batch_size=8, precision="fp32", log_every=1000)
    config.model.gap_schedule = [[4, 0.2]]  # the gap changes at step 4: H is re-initialized there
    trainer = Trainer(config, tmp_path)
    for _ in range(2):
        trainer.train_step()
    before = _storages(trainer)
    for _ in range(4):
        trainer.train_step()
    assert trainer.objective.reinitializations == 1
    after = _storages(trainer)
    assert before.keys() == after.keys()
    moved = [key for key in before if before[key] != after[key]]
    assert moved == [], f"tensors re-allocated: {moved[:5]}"


def test_stats_accumulate_into_the_same_buffers_across_collections() -> None:
    from infogan_kit.training import stats

    stats.reset()
    stats.report("Loss/test", torch.tensor([1.0, 3.0]))
    buffer = stats._sums["Loss/test"].untyped_storage().data_ptr()
    assert stats.collect() == {"Loss/test": 2.0}
    assert stats.collect() == {}  # nothing reported since
    stats.report("Loss/test", torch.tensor(5.0))
    stats.report("Loss/test", torch.tensor(7.0))
    assert stats._sums["Loss/test"].untyped_storage().data_ptr() == buffer
    assert stats.collect() == {"Loss/test": 6.0}
    stats.reset()
