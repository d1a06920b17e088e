"""DDP on CPU with 2 gloo processes: identical weights across ranks; resume in 1 process."""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

import torch

from infogan_kit.training.api import train
from infogan_kit.training.checkpoint import load_checkpoint

from ..conftest import free_port, tiny_config, torchrun_train


def _worker(rank: int, world_size: int, port: int, out: str, result_dir: str) -> None:
    os.environ.update({"RANK": str(rank), "WORLD_SIZE": str(world_size), "LOCAL_RANK": str(rank),
                       "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port), "OMP_NUM_THREADS": "1"})
    torch.set_num_threads(1)
    run = train(tiny_config(model="infogan-cr", steps=6, batch_size=16), out=out, final_metrics=False)
    weights = {f"{net}.{k}": v for net, module in run.model.networks.items() for k, v in module.state_dict().items()}
    weights.update({f"ema.{net}.{k}": v for net, module in run.model.ema.items() for k, v in module.state_dict().items()})
    torch.save(weights, Path(result_dir) / f"rank{rank}.pt")
    (Path(result_dir) / f"rank{rank}.threads").write_text("\n".join(_native_thread_names()))


def _native_thread_names() -> list[str]:
    """Names of this process's threads (Linux); gloo's are ``pt_gloo_runloop`` and ``gloo_tcp_loop``."""
    tasks = Path("/proc/self/task")
    return sorted((task / "comm").read_text().strip() for task in tasks.iterdir()) if tasks.exists() else []


def test_two_gloo_ranks_stay_identical_and_resume_in_one_process(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    port = free_port()
    out = tmp_path / "ddp-run"
    workers = [context.Process(target=_worker, args=(r, 2, port, str(out), str(tmp_path))) for r in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)
    assert [w.exitcode for w in workers] == [0, 0]
    rank0 = torch.load(tmp_path / "rank0.pt", weights_only=True)
    rank1 = torch.load(tmp_path / "rank1.pt", weights_only=True)
    assert rank0.keys() == rank1.keys()
    for key in rank0:
        assert torch.equal(rank0[key], rank1[key]), key
    for rank in range(2):
        # train() destroys the process group for real: no gloo thread outlives it (one that did
        # could abort the process at exit while it released the last collective's tensors).
        assert "gloo" not in (tmp_path / f"rank{rank}.threads").read_text()
    state = load_checkpoint(out)
    assert state["step"] == 6 and state["world_size"] == 2 and len(state["rng_per_rank"]) == 2
    assert state["images_seen"] == 6 * 16  # the global batch, not the per-rank one
    # The 2-rank run continues in a single process.
    resumed = train(tiny_config(model="infogan-cr", steps=8, batch_size=16), resume=out, final_metrics=False)
    assert resumed.step == 8 and load_checkpoint(out)["world_size"] == 1


def test_torchrun_entry_point(tmp_path: Path) -> None:
    out = tmp_path / "torchrun-run"
    done = torchrun_train(2, ["--steps", "2", "--batch-size", "8", "--device", "cpu", "--precision", "fp32", "--out", str(out),
                              "--no-final-metrics"], timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.count("run directory:") == 1  # rank 0 alone reports
    assert load_checkpoint(out)["world_size"] == 2
