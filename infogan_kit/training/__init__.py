"""The model-agnostic training loop, checkpoints, logging and precision."""
