"""Train the factor-classifier feature networks of ``fd`` / ``kid`` and write them into the package.

The recorded recipe (one CPU thread, fixed seed, fresh procedural samples each step) is
:func:`infogan_kit.metrics.feature_net.train_feature_net`; this script runs it per dataset and
writes ``infogan_kit/assets/feature_nets/<dataset>.pt`` and ``<dataset>.json`` (recipe, accuracy
per factor, torch version, sha256 of the weights)::

    OMP_NUM_THREADS=1 python bench/train_feature_net.py                 # dsprites, color_dsprites, noisy_dsprites
    OMP_NUM_THREADS=1 python bench/train_feature_net.py dsprites --steps 6000 --out /tmp/nets

Retraining changes every ``fd`` / ``kid`` number (and the sha256 recorded with them): ship a
new network only together with a note in the changelog.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from infogan_kit.data import load_dataset
from infogan_kit.metrics.feature_net import ASSET_DIR, feature_net_files, save_feature_net, train_feature_net

DEFAULT_DATASETS = ("dsprites", "color_dsprites", "noisy_dsprites")


def main() -> None:
    """Parse the arguments, train each dataset's network, write it, print its record."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("datasets", nargs="*", default=list(DEFAULT_DATASETS), help="procedural datasets to train on")
    parser.add_argument("--steps", type=int, default=6000)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--learning-rate", type=float, default=2e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--eval-images", type=int, default=5000)
    parser.add_argument("--out", type=Path, default=ASSET_DIR, help="output folder (default: the package assets)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    for name in args.datasets:
        start = time.perf_counter()
        network, record = train_feature_net(
            load_dataset(name), steps=args.steps, batch_size=args.batch_size, learning_rate=args.learning_rate,
            seed=args.seed, eval_images=args.eval_images,
        )
        weights = save_feature_net(network, record, args.out)
        saved = json.loads(feature_net_files(name, args.out)[1].read_text())
        print(f"{name}: {weights} ({saved['weights_bytes']} bytes, sha256 {saved['weights_sha256'][:16]}...) "
              f"in {time.perf_counter() - start:.0f} s; accuracy {saved['accuracy']}", flush=True)


if __name__ == "__main__":
    main()
