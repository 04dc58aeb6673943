"""Holograms: a small scene of meshes (:mod:`.scene`), a CPU rasteriser that renders each eye with
depth (:mod:`.raster`), and per-pixel compositing over the reprojected room (:mod:`.composite`)."""

from .composite import composite_eye, composite_layer
from .raster import HologramLayer, render_eye, render_eye_layer
from .scene import Hologram, Scene, default_scene, load_mesh

__all__ = ["Hologram", "HologramLayer", "Scene", "default_scene", "load_mesh", "render_eye", "render_eye_layer",
           "composite_eye", "composite_layer"]
