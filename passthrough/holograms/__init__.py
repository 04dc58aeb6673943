"""Holograms: a small scene of meshes (:mod:`.scene`), a CPU rasteriser that renders each eye with
depth (:mod:`.raster`), and per-pixel compositing over the reprojected room (:mod:`.composite`)."""

from .composite import composite_eye
from .raster import render_eye
from .scene import Hologram, Scene, default_scene, load_mesh

__all__ = ["Hologram", "Scene", "default_scene", "load_mesh", "render_eye", "composite_eye"]
