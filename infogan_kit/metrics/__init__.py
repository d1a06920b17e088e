"""Disentanglement and image-quality metrics (see docs/metrics.md)."""
