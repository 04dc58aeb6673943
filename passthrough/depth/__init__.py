"""Depth reconstruction: rectified stereo frames in, dense metric depth + confidence of the left camera out.

Methods are chosen by name (:data:`METHODS`, :class:`DepthEstimator`); all return a
:class:`DepthResult` at the input's full resolution in the left *rectified* camera (OpenCV axes):
``disparity`` (float32 px), ``depth_m`` (``f * B / (d + doffs)`` from the rig), ``confidence`` (0..1,
low where pixels were hole-filled or failed the uniqueness / left-right checks) and ``timings``.

- ``sgm_aniso_snap`` (:data:`DEFAULT_METHOD`): ``sgm_aniso``, then its depth edges snapped to where the
  pair puts them (:mod:`passthrough.depth.snap`: blocks of 2x2 pixels the pair contradicts next to a
  depth edge take the nearest or farthest disparity within 3 px where that halves their photometric
  error; the matcher at reduced resolution draws near surfaces a few pixels too wide). 2026-12-03, against
  ``sgm_aniso`` (``passthrough eval depth --method sgm_aniso,sgm_aniso_snap``): Motorcycle-Q bad-2.0
  non-occluded 6.14 -> 5.85 % (bad-1.0 12.78 -> 12.44 %), all pixels 11.04 -> 10.95 %; ETH3D terrace
  bad-2.0 1.31 -> 1.30 % (bad-1.0 7.25 %, unchanged); SceneFlow non-occluded 36.05 -> 35.82 %, all pixels
  37.35 -> 37.46 % (its occluded pixels); Tsukuba view synthesis (``passthrough eval reprojection``) view
  3 26.61 -> 27.25 dB, views 2 / 4 27.79 / 27.66 -> 28.19 / 28.48 dB. It costs 1.5-1.9 ms per 640x480
  frame on one core (``passthrough bench depth``: ``stages.depth_snap``), ~12 % of the depth time.
- ``sgm_aniso``: own census semi-global matcher (numba, 4 paths: horizontal
  paths run as row sweeps on the transposed volume, vertical ones fused with the winner-take-all,
  uniqueness and parabola sub-pixel fit; winners at the end of a search the left image border truncates are
  dropped), matched at 1/2 horizontal x 1/4 vertical resolution —
  disparity precision needs horizontal resolution only — then left-right check, speckle removal
  (connected regions of <= 12 matching-resolution pixels whose neighbours differ by <= 1 px are
  dropped: isolated wrong matches, e.g. on repetitive texture), scanline hole filling
  (background side) and confidence-weighted joint bilateral upsampling guided by the full-resolution
  left image; zero disparities (the search truncated at the left border) count as holes of that fill,
  and last the dense map gets a 5x5 median (``MethodSpec.median``; as
  :func:`passthrough.depth.upsample.clean_disparity` cleans a full-resolution map). That cleaning
  (2026-12-02, ``passthrough eval depth``, same day, before -> after): Motorcycle-Q bad-2.0 non-occluded
  6.30 -> 6.14 %, all pixels 11.19 -> 11.04 %; ETH3D terrace bad-1.0 7.56 -> 7.25 %, bad-2.0 1.43 ->
  1.31 %; SceneFlow 37.72 -> 37.36 %; the median costs 0.3 ms per 640x480 map on 16-bit fixed point
  (:func:`passthrough.depth.upsample.median_disparity`, *one-off*).
- ``sgm_aniso_recover``: ``sgm_aniso``, then the pixels whose disparity the pair contradicts at full
  resolution (window colour difference over a threshold) are re-matched there: a 5x5 search over the
  whole range, kept where it fits much better, is distinct, fits the pixel itself better and is mutual
  (:mod:`passthrough.depth.recover`): thin structures (a lamp arm, a pole) the coarse matcher gave the
  background's disparity. ``passthrough eval depth --method sgm_aniso,sgm_aniso_recover`` (2026-12-02,
  one run per set, both cleaned): Motorcycle-Q bad-2.0 non-occluded 6.14 -> 5.74 %, all pixels 11.04 ->
  10.69 %; ETH3D terrace 1.31 -> 1.30 % (bad-1.0 7.25 -> 7.24 %); SceneFlow 37.35 -> 37.21 %; at 2-6x the
  time (median 9.1 -> 54.8 ms on Motorcycle-Q, 8.8 -> 15.8 ms on the terrace, 35.5 -> 142 ms on
  SceneFlow's 960x540): an offline or ``--depth-method`` choice, not the camera stage's default.
- ``sgm_half`` / ``sgm_half_8path`` / ``sgm_third`` / ``sgm_quarter`` / ``sgm_full``: the same matcher
  at other resolutions / path sets.
- ``opencv_sgbm`` / ``opencv_bm``: OpenCV matchers at 1/2 resolution with the same filling/upsampling.
- ``opencv_sgbm_full``: the reference every evaluation also runs (full resolution, holes left invalid).

For the camera stage's image-first mode (an image shown before its own depth is done) two helpers
reuse the previous frame's depth: :mod:`passthrough.depth.warp` moves it to the new camera pose
(z-buffered forward splat), :mod:`passthrough.depth.refresh` re-chooses it where the new pair
contradicts it (something in front of a static rig moved) without a stereo match.

:class:`TemporalFilter` (``DepthEstimator(..., temporal=True)``) stabilises video: confidence-weighted
running mean per pixel while the value stays within max(1 px, 4 %), immediate switch on a larger change
(low-confidence contradictions are held back for one frame).

Measured (``passthrough eval depth``, one core, on this project's 2-core VM shared with other jobs, so
absolute times vary ~1.5x with load; ratios come from interleaved runs): Motorcycle-Q non-occluded
bad-2.0 6.6 % (reference 13.0 %) at 7.5x the reference's speed (10.5 vs 78 ms); ETH3D terrace
bad-1.0 7.8 % (reference 26 % with 96 disparities) at 7.5-8.4x; OAK-D 640x480 pairs with 80
disparities: median 10.6 ms (p25 9.9, best 8.5) while the reference took 54.5 ms in the same run.
The speckle removal (``SGMParams.speckle_size=12``, picked among 0/8/12/16/25/40 on these sets) lowered
all-pixel bad-2.0 on Motorcycle-Q from 13.9 to 11.2 % (non-occluded 6.6 -> 6.3 %), ETH3D terrace from 1.84
to 1.43 % (bad-1.0 7.8 -> 7.6 %) and SceneFlow (FlyingThings3D A/0032/0006) from 40.5 to 37.8 % (non-occluded
36.0 -> 36.5 %) (``passthrough eval depth`` on each folder of
``../shared/data/stereo``, 2026-12-01) for ~0.6 ms per 640x480 frame (one-off: the kernel alone on the
pov_hands pair at matching resolution). ``sgm_aniso_3path`` is ~8 % faster (Motorcycle 7.3 %, terrace 9.0 %); ``sgm_third`` ~25 % faster but
terrace bad-1.0 13 %.
"""

from .methods import (DEFAULT_METHOD, METHODS, REFERENCE_METHOD, DepthEstimator, DepthResult, MethodSpec,
                      default_num_disparities, estimate_depth, get_method)
from .sgm import SGMParams, census_sgm, warmup
from .temporal import TemporalFilter, frame_to_frame_change

__all__ = ["DEFAULT_METHOD", "METHODS", "REFERENCE_METHOD", "DepthEstimator", "DepthResult", "MethodSpec",
           "default_num_disparities", "estimate_depth", "get_method", "SGMParams", "census_sgm", "warmup",
           "TemporalFilter", "frame_to_frame_change"]
