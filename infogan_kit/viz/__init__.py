"""Pictures: sample grids, latent-traversal grids (PNG with code names) and GIFs."""

from .grids import sample_grid, save_image, traversal_gif, traversal_image

__all__ = ["sample_grid", "save_image", "traversal_gif", "traversal_image"]
