"""Build the reprojection ONNX graph (camera RGB-D views -> per-eye images) with ``onnx.helper``.

Approach: *backward warp through per-eye inverse warp fields computed at low resolution*
-----------------------------------------------------------------------------------------
Per eye, the graph:

1. **Forward-splats depth only** (not colour) of both cameras into a low-resolution eye z-buffer
   (cells about ``stride`` pixels apart, spanning the image corner to corner) with
   ``ScatterElements(reduction="min")``: nearest surface wins, and both cameras' geometry is fused into
   one buffer. Source pixels are taken every ``stride`` pixels (one per cell: the eyes sit behind the
   cameras, surfaces shrink in them); empty cells between two filled ones (cracks) take the farther.
2. **Fills empty cells from the background side**: 5x5 max-pools of depth (farthest neighbour wins),
   so disocclusions get the depth of the surface behind, never of the occluder. The filled depth is
   output only where the cell's point lies inside a camera image (step 3 tells): past both cameras'
   view (an eye's periphery) the depth output is 0 = unknown, not an extrapolation.
3. **Back-projects every cell** at its eye depth into both cameras (the inverse warp field), looks up
   each camera's own (splatted, subsampled) depth there and keeps the camera unless something nearer
   occludes the point in it (shadow-map style visibility test).
4. **Fuses**: ``blend`` (default) mixes the cameras that see a cell with weights ~ 1 / (camera-eye
   distance), so the nearer camera dominates and the other fills what it cannot see; ``select`` takes
   the nearer camera and the other only where the first cannot see. Cells no camera sees
   (``eye_holes``) average the preferred camera's positions of their seen neighbours weighted by
   ``(z / (z + mean z))**16``, i.e. of the background: the hole repeats background pixels instead of
   smearing the occluder; the other camera's position moves by the same shift (the cell keeps the
   parallax of the background depth it was filled with) and the cell takes the preferred camera. One
   5x5 pass fills holes up to two cells wide; a push-pull pyramid (``hole_levels`` 2x2 average-pool
   levels, pulled back by nearest ``Resize`` to the parent cell) fills wider ones at a fraction of the
   cost of more 5x5 passes.
5. **Upsamples** the per-cell sampling positions bilinearly (align-corners ``Resize``: exact for the
   part linear in the pixel position) and resamples colour with bilinear ``GridSample`` in row bands.

The ``maps`` variant (``ModelParams.maps``, files ``...-maps-<hash>.onnx``) is steps 1-4 only: it takes
no images and outputs the cells (``cell_fields`` [E,5,Hl,Wl]: x, y in the left camera, x, y in the
right camera, share of the left camera; ``cell_depth`` [E,1,Hl,Wl]; ``cell_holes`` [E,1,Hl,Wl]);
:mod:`reprojection.gather` does step 5 on the CPU (~4x cheaper than onnxruntime's CPU ``GridSample``).
Its nearest depth lookup in the visibility test is a ``GatherElements`` instead of ``GridSample``; everything
else is the same graph, so both variants make the same decisions (holes identical in the tests).

Why not forward-splat colour (NeuralPassthrough-like)? A full-resolution colour splat needs a z-buffer
scatter *and* a second scatter of colour per camera and eye (4x 307 k scattered pixels at 640x480, plus
crack filling at full resolution) and gives nearest-pixel resampling, i.e. no sub-pixel accuracy, which
costs PSNR on textured scenes. The backward warp samples colour bilinearly at sub-pixel positions, does
all visibility / fusion / hole logic on ``stride**2`` times fewer cells, and its only full-resolution
gathers are one ``GridSample`` per eye and camera. The price: depth edges are resolved per cell (a
foreground edge can be up to one cell too wide); ``stride`` trades that against time (1, 2 and 4 are
built). Passthrough+'s coarse mesh is the same trade with rasterised triangles; ONNX has no rasteriser.

Cost (``docs/reprojection.md``): on this project's 2-core AMD EPYC, one thread, onnxruntime's CPU
``GridSample`` alone costs 13-17 ms for both 640x480 eyes (``cv2.remap``: 3.4 ms); the stride-4 graph
costs ~2.1-2.4x that (``select``) or ~3.2-3.4x (``blend``, two resamplings per eye). The ``maps``
variant + CPU gather (the default on the CPU) costs about half of the full ``blend`` graph.

Conventions: OpenCV camera axes (+x right, +y down, +z forward); pixel centres at integer coordinates;
``T_eye_from_camera`` maps camera-frame points to the eye frame (4x4, any rotation and translation,
translation in the same unit as depth). Depth is the z coordinate (not the ray length).

Inputs (``E`` eyes, normally 2; images of all cameras and eyes share one size ``H x W``):

=====================  =================  ==========================================================
name                   shape / dtype      meaning
=====================  =================  ==========================================================
left_image             [1,3,H,W] float32  left rectified camera image (any value range, e.g. 0..255)
right_image            [1,3,H,W] float32  right rectified camera image
left_depth             [1,1,H,W] float32  z-depth of each left pixel (> 0)
right_depth            [1,1,H,W] float32  z-depth of each right pixel
left_valid             [1,1,H,W] bool     True where ``left_depth`` is usable (depth that is not > 0, NaN
                                          or not below 1e30 is ignored even where True)
right_valid            [1,1,H,W] bool     True where ``right_depth`` is usable
K_left, K_right        [3,3] float32      camera intrinsics (pixels, upper triangular)
K_eyes                 [E,3,3] float32    intrinsics of each eye's rendered view (E = 2)
T_eye_from_left        [E,4,4] float32    pose of the left camera in each eye frame
T_eye_from_right       [E,4,4] float32    pose of the right camera in each eye frame
=====================  =================  ==========================================================

Outputs: ``eye_images`` [E,3,H,W] float32 (same range as the input images), ``eye_depth`` [E,1,H,W]
float32 (z in each eye frame, bilinear from the cells with known depth; 0 where unknown: no surface, or
past both cameras' images), ``eye_holes`` [E,1,H,W] bool (True where no camera saw the surface; those
pixels are filled from the background side).
The ``maps`` variant (:data:`MAPS_INPUT_NAMES`) takes no images, and instead of the full-resolution depth
and validity each camera's depth already subsampled at the splatted pixels (``left_depth_sub``,
``right_depth_sub`` [1,1,Hs,Ws] float32: rows and columns 0, stride, 2 stride, ...; 0 where unusable;
:func:`subsample_depth`, made once per camera frame instead of once per eye pose) and ``image_size``
(int64 [2]: H, W); it outputs :data:`MAPS_OUTPUT_NAMES` (see above).
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import List

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

#: Version of the graph's interface and maths (part of the file name, with a hash of the bytes).
MODEL_VERSION = 7
OPSET = 18
IR_VERSION = 8
#: Strides built by :func:`build` (warp-field cell size in pixels).
STRIDES = (1, 2, 4)
#: (stride, blend, maps) of every file :func:`build` writes: the full graphs, then the ``maps`` graphs.
VARIANTS = (tuple((s, b, False) for s in STRIDES for b in (True, False))
            + tuple((s, b, True) for s in STRIDES for b in (True, False)))
INPUT_NAMES = ("left_image", "right_image", "left_depth", "right_depth", "left_valid", "right_valid",
               "K_left", "K_right", "K_eyes", "T_eye_from_left", "T_eye_from_right")
OUTPUT_NAMES = ("eye_images", "eye_depth", "eye_holes")
#: Inputs and outputs of the ``maps`` variant (no images in; per-cell sampling fields out).
MAPS_INPUT_NAMES = ("left_depth_sub", "right_depth_sub", "image_size") + INPUT_NAMES[6:]
MAPS_OUTPUT_NAMES = ("cell_fields", "cell_depth", "cell_holes")


def usable_depth(depth: np.ndarray) -> np.ndarray:
    """bool mask of the depth the model uses: 0 < z < ``BIG`` (not NaN, not inf, not the splat's "empty"
    value). The one rule of the graph, its numpy reference and the runtime's input cleaning."""
    d = np.asarray(depth)
    with np.errstate(invalid="ignore"):
        return (d > 0) & (d < BIG)


def subsample_depth(depth: np.ndarray, stride: int) -> np.ndarray:
    """The ``maps`` variant's ``*_depth_sub`` input: float32 z-depth (H, W) -> [1,1,Hs,Ws], the pixels at
    rows and columns 0, stride, 2 stride, ... (the ones the graph splats), 0 where the depth is unusable
    (:func:`usable_depth`: the graph itself does not test them again)."""
    d = np.asarray(depth, np.float32)[::stride, ::stride]
    return np.ascontiguousarray(np.where(usable_depth(d), d, np.float32(0.0)), np.float32)[None, None]


#: Depth fill and hole filling pool over (2 * POOL_RADIUS + 1)^2 cells per pass.
POOL_RADIUS = 2


@dataclass(frozen=True)
class ModelParams:
    """Build-time constants of one model variant (shared with :mod:`reprojection.reference`).

    Attributes:
        stride: warp-field cell size in pixels (1, 2 or 4).
        fill_px: how far (pixels) empty eye cells get background depth from their neighbours.
        tau: relative depth tolerance of the visibility (occlusion) test: a camera sees an eye point if
            its own depth there is not nearer than ``(1 - tau)`` times the point's depth in that camera.
        near: points closer than this (depth unit) to an eye or camera are dropped.
        gap: zero rows between the two stacked camera images.
        bands: the colour resampling runs in this many row bands per eye (onnxruntime's ``GridSample``
            is ~3x faster per pixel on cache-sized bands than on a whole 640x480 grid).
        blend: True: where both cameras see a pixel, blend them with weights inversely proportional to
            each camera's distance from the eye (two ``GridSample`` per eye); False ("select"): take the
            nearer camera, the other only where it cannot see (one ``GridSample`` per eye on the two
            images stacked vertically).
        maps: True: the graph stops before the full-resolution stage (no images in, no ``Resize``, no
            colour ``GridSample``) and outputs per eye the cell fields, depth and holes
            (``MAPS_OUTPUT_NAMES``); :mod:`reprojection.gather` upsamples them and gathers colour on the
            CPU. The cells are computed with the same maths as the full variant.
        hole_levels: levels of the push-pull pyramid that fills hole cells after the one 5x5 pass
            (reach ~``2 + 2**hole_levels`` cells). Three levels rendered the Tsukuba and synth sets as
            the four 5x5 passes of model v4 did (same PSNR to 0.01 dB) for 1.3-1.7 ms less per frame
            (one onnxruntime thread, 640x512: a 5x5 ``AveragePool`` over 6 channels costs ~0.5 ms;
            since model v7 the fill runs on 3 channels).
    """

    stride: int = 4
    fill_px: int = 32
    tau: float = 0.04
    near: float = 1e-3
    gap: int = 2
    bands: int = 4
    blend: bool = True
    maps: bool = False
    hole_levels: int = 3

    @property
    def source_step(self) -> int:
        """Source pixels are splatted every ``source_step`` pixels: one per cell (the eyes sit behind the
        cameras, so surfaces shrink in them and a cell rarely stays empty; one-cell cracks that remain are
        closed by :func:`_close_cracks`). Half a cell (4x the points) cost 2/3 of the graph's time."""
        return self.stride

    @property
    def fill_passes(self) -> int:
        """5x5 max-pool passes that give empty cells background depth (``fill_px`` reach)."""
        return max(1, -(-self.fill_px // (POOL_RADIUS * self.stride)))

    @property
    def hole_passes(self) -> int:
        """5x5 passes that propagate camera coordinates into cells no camera sees (before the pyramid)."""
        return 1


BIG = 1e30
#: The graph renders exactly two eyes.
N_EYES = 2


def model_filename(stride: int, blend: bool = True, maps: bool = False) -> str:
    """File name of the model variant with warp-field cell size ``stride`` (``-select``: no blending;
    ``-maps``: the graph that outputs per-cell sampling fields instead of images).

    The name ends with the first 12 hex digits of the sha256 of the graph this code builds, so a file
    left in the cache by other (older or newer) code is never picked up, and an edited file fails the
    runtime's hash check.
    """
    digest = hashlib.sha256(model_bytes(stride, blend, maps)).hexdigest()[:12]
    return f"reprojection-v{MODEL_VERSION}-s{stride}{'' if blend else '-select'}{'-maps' if maps else ''}-{digest}.onnx"


class _Graph:
    """Tiny helper around onnx.helper: unique deterministic names, constants as initializers."""

    def __init__(self) -> None:
        self.nodes: List[onnx.NodeProto] = []
        self.inits: List[onnx.TensorProto] = []
        self.count = 0
        self.section = "setup"

    def _name(self, hint: str) -> str:
        self.count += 1
        return f"{hint}_{self.count}"

    def const(self, value, dtype=np.float32) -> str:
        arr = np.asarray(value, dtype=dtype)
        name = self._name("c")
        self.inits.append(numpy_helper.from_array(arr, name))
        return name

    def op(self, op_type: str, *inputs: str, outputs: int = 1, name: str = None, **attrs):
        outs = [name] if name is not None else [self._name(op_type.lower()) for _ in range(outputs)]
        self.nodes.append(helper.make_node(op_type, list(inputs), outs, name=self._name(f"{self.section}/{op_type}"), **attrs))
        return outs[0] if outputs == 1 else outs

    # --------------------------------------------------------------- shorthands
    def add(self, a, b): return self.op("Add", a, b)
    def sub(self, a, b): return self.op("Sub", a, b)
    def mul(self, a, b): return self.op("Mul", a, b)
    def div(self, a, b): return self.op("Div", a, b)
    def where(self, c, a, b): return self.op("Where", c, a, b)
    def and_(self, *xs):
        out = xs[0]
        for x in xs[1:]:
            out = self.op("And", out, x)
        return out
    def or_(self, a, b): return self.op("Or", a, b)
    def not_(self, a): return self.op("Not", a)
    def f(self, x): return self.const(float(x))
    def i64(self, xs): return self.const(list(xs), np.int64)
    def reshape(self, x, shape) -> str:
        return self.op("Reshape", x, shape if isinstance(shape, str) else self.i64(shape))
    def slice(self, x, starts, ends, axes, steps=None) -> str:
        ins = [x, self.i64(starts), self.i64(ends), self.i64(axes)]
        if steps is not None:
            ins.append(steps if isinstance(steps, str) else self.i64(steps))
        return self.op("Slice", *ins)
    def concat(self, xs, axis): return self.op("Concat", *xs, axis=axis)


def _kinv(g: _Graph, K: str) -> str:
    """Inverse of upper-triangular intrinsics ``K`` ([..., 3, 3] -> [N, 3, 3])."""
    k = g.reshape(K, [-1, 9])
    el = {i: g.slice(k, [i], [i + 1], [1]) for i in (0, 1, 2, 4, 5)}
    fx, sk, cx, fy, cy = el[0], el[1], el[2], el[4], el[5]
    fxfy = g.mul(fx, fy)
    zero = g.mul(fx, g.f(0.0))
    one = g.add(zero, g.f(1.0))
    r = [g.div(g.f(1.0), fx), g.op("Neg", g.div(sk, fxfy)), g.div(g.sub(g.mul(sk, cy), g.mul(cx, fy)), fxfy),
         zero, g.div(g.f(1.0), fy), g.op("Neg", g.div(cy, fy)), zero, zero, one]
    return g.reshape(g.concat(r, 1), [-1, 3, 3])


def _pixel_rows(g: _Graph, xs: str, ys: str) -> str:
    """[3, len(ys)*len(xs)] homogeneous pixel coordinates (x fastest) from 1-D float coordinate lists."""
    X = g.add(g.reshape(xs, [1, -1]), g.mul(g.reshape(ys, [-1, 1]), g.f(0.0)))
    Y = g.add(g.reshape(ys, [-1, 1]), g.mul(g.reshape(xs, [1, -1]), g.f(0.0)))
    X = g.reshape(X, [1, -1])
    Y = g.reshape(Y, [1, -1])
    return g.concat([X, Y, g.add(g.mul(X, g.f(0.0)), g.f(1.0))], 0)


def _splat(g: _Graph, p: ModelParams, cams, pix_s, Ef, Hlf, Wlf, kx, ky) -> str:
    """Step 1: z-buffer [E,1,Hl,Wl] of both cameras' subsampled points (BIG = empty).

    The scatter writes into a buffer with a one-cell ring around each eye's cells: a point's cell
    coordinates are clipped to [-1, Wl] x [-1, Hl], so points that miss the cells land in the ring, which
    is cut off afterwards (two ``Clip`` instead of four comparisons, four ``And`` and a ``Where`` per
    camera); points without depth or not in front of the eye scatter BIG, which changes nothing."""
    ss = p.source_step
    Wp, Hp = g.add(Wlf, g.f(2.0)), g.add(Hlf, g.f(2.0))  # ringed size
    eoff = g.reshape(g.mul(g.op("Range", g.f(0.0), g.op("Squeeze", Ef), g.f(1.0)), g.mul(Hp, Wp)), [-1, 1, 1])  # [E,1,1]
    hx, hy = g.op("Squeeze", g.add(Wlf, g.f(1.0))), g.op("Squeeze", g.add(Hlf, g.f(1.0)))  # scalars for Clip
    idx_all, upd_all = [], []
    for c in ("left", "right"):
        cm = cams[c]
        if not p.maps:
            sub = lambda x: g.slice(x, [0, 0], [2**62, 2**62], [2, 3], [ss, ss])
            d_sub = sub(f"{c}_depth")
            usable = g.and_(sub(f"{c}_valid"), g.op("Greater", d_sub, g.f(0.0)), g.op("Less", d_sub, g.f(BIG)))  # not NaN, inf
            cm["sub"] = g.where(usable, d_sub, g.f(0.0))  # [1,1,Hs,Ws]
        else:  # subsampled once per camera frame by the caller (subsample_depth), not per eye pose
            cm["sub"] = f"{c}_depth_sub"
        zsrc = g.reshape(cm["sub"], [1, 1, -1])
        P = g.add(g.mul(g.op("MatMul", cm["A_ec"], pix_s), zsrc), cm["b_ec"])  # [E,3,Ns]
        ze = g.slice(P, [2], [3], [1])
        zd = g.op("Max", ze, g.f(p.near))  # finite cell coordinates for every point (the unused ones too)
        ue = g.div(g.slice(P, [0], [1], [1]), zd)
        ve = g.div(g.slice(P, [1], [2], [1]), zd)
        # nearest cell centre, + 1 for the ring
        cx = g.op("Clip", g.op("Floor", g.add(g.mul(ue, kx), g.f(1.5))), g.f(0.0), hx)
        cy = g.op("Clip", g.op("Floor", g.add(g.mul(ve, ky), g.f(1.5))), g.f(0.0), hy)
        ok = g.and_(g.op("Greater", zsrc, g.f(0.0)), g.op("Greater", ze, g.f(p.near)))
        idx = g.add(eoff, g.add(g.mul(cy, Wp), cx))
        # int32 indices (the buffer holds E x (Hl + 2) x (Wl + 2) cells, far below 2^31): onnxruntime scatters
        # them faster than int64 (with the Clip bounds below, ~3 % less graph time: docs/reprojection.md)
        idx_all.append(g.reshape(g.op("Cast", idx, to=TensorProto.INT32), [-1]))
        upd_all.append(g.reshape(g.where(ok, ze, g.f(BIG)), [-1]))
    nbuf = g.op("Cast", g.mul(Ef, g.mul(Hp, Wp)), to=TensorProto.INT64)
    zbuf = g.op("ScatterElements", g.op("Expand", g.f(BIG), nbuf), g.concat(idx_all, 0), g.concat(upd_all, 0),
                axis=0, reduction="min")
    ringed = g.reshape(zbuf, g.op("Cast", g.concat([g.const([-1.0, 1.0]), Hp, Wp], 0), to=TensorProto.INT64))
    return g.slice(ringed, [1, 1], [-1, -1], [2, 3])  # [E,1,Hl,Wl]


def _close_cracks(g: _Graph, Z: str) -> str:
    """Empty cells ([E,1,Hl,Wl], -1 = empty) whose two horizontal (else two vertical) neighbours both
    hold a surface take the farther of the two: one-cell cracks of the splat close on the surface
    around them, and the wider disocclusions are left to the background-side fill."""
    f32 = TensorProto.FLOAT
    empty = g.op("Less", Z, g.f(0.0))
    occ = g.op("Cast", g.op("Greater", Z, g.f(0.0)), to=f32)
    out = Z
    for kernel, pads in (([3, 1], [1, 0, 1, 0]), ([1, 3], [0, 1, 0, 1])):  # vertical first, horizontal wins
        both = g.op("Greater", g.op("AveragePool", occ, kernel_shape=kernel, pads=pads, count_include_pad=1),
                    g.f(0.5))  # (neighbour + neighbour) / 3 with an empty centre
        far = g.op("MaxPool", Z, kernel_shape=kernel, pads=pads)
        out = g.where(g.and_(empty, both), far, out)
    return out


def make_model(params: ModelParams = ModelParams()) -> onnx.ModelProto:
    """The reprojection graph for one parameter set (see the module docstring for inputs/outputs)."""
    p = params
    s = p.stride
    g = _Graph()
    f32, b = TensorProto.FLOAT, TensorProto.BOOL
    inputs = [
        helper.make_tensor_value_info("left_image", f32, [1, 3, "H", "W"]),
        helper.make_tensor_value_info("right_image", f32, [1, 3, "H", "W"]),
        helper.make_tensor_value_info("left_depth", f32, [1, 1, "H", "W"]),
        helper.make_tensor_value_info("right_depth", f32, [1, 1, "H", "W"]),
        helper.make_tensor_value_info("left_valid", b, [1, 1, "H", "W"]),
        helper.make_tensor_value_info("right_valid", b, [1, 1, "H", "W"]),
        helper.make_tensor_value_info("K_left", f32, [3, 3]),
        helper.make_tensor_value_info("K_right", f32, [3, 3]),
        helper.make_tensor_value_info("K_eyes", f32, ["E", 3, 3]),
        helper.make_tensor_value_info("T_eye_from_left", f32, ["E", 4, 4]),
        helper.make_tensor_value_info("T_eye_from_right", f32, ["E", 4, 4]),
    ]
    outputs = [
        helper.make_tensor_value_info("eye_images", f32, ["E", 3, "H", "W"]),
        helper.make_tensor_value_info("eye_depth", f32, ["E", 1, "H", "W"]),
        helper.make_tensor_value_info("eye_holes", b, ["E", 1, "H", "W"]),
    ]
    if p.maps:  # no images in; per-cell fields out (Hl x Wl cells spanning the image corner to corner)
        inputs = [helper.make_tensor_value_info("left_depth_sub", f32, [1, 1, "Hs", "Ws"]),
                  helper.make_tensor_value_info("right_depth_sub", f32, [1, 1, "Hs", "Ws"]),
                  helper.make_tensor_value_info("image_size", TensorProto.INT64, [2])] + inputs[6:]
        outputs = [
            helper.make_tensor_value_info("cell_fields", f32, ["E", 5, "Hl", "Wl"]),
            helper.make_tensor_value_info("cell_depth", f32, ["E", 1, "Hl", "Wl"]),
            helper.make_tensor_value_info("cell_holes", b, ["E", 1, "Hl", "Wl"]),
        ]

    # ---------------------------------------------------------------- sizes (dynamic H, W, E)
    shp = "image_size" if p.maps else g.slice(g.op("Shape", "left_depth"), [2], [4], [0])  # (H, W)
    H = g.slice(shp, [0], [1], [0])
    W = g.slice(shp, [1], [2], [0])
    E = g.slice(g.op("Shape", "K_eyes"), [0], [1], [0])
    # cell centres: Hl x Wl points spanning the image corner to corner (spacing <= stride), so that
    # align_corners upsampling reproduces fields that are linear in the pixel position exactly
    Hl = g.add(g.div(g.add(H, g.i64([s - 2])), g.i64([s])), g.i64([1]))
    Wl = g.add(g.div(g.add(W, g.i64([s - 2])), g.i64([s])), g.i64([1]))
    Hf, Wf, Hlf, Wlf, Ef = (g.op("Cast", x, to=f32) for x in (H, W, Hl, Wl, E))
    cells = g.mul(Hlf, Wlf)  # cells per eye (float)
    one = g.f(1.0)
    kx = g.div(g.sub(Wlf, one), g.op("Max", g.sub(Wf, one), one))  # cells per pixel
    ky = g.div(g.sub(Hlf, one), g.op("Max", g.sub(Hf, one), one))

    # ---------------------------------------------------------------- matrices
    Ke = "K_eyes"
    Ke_inv = _kinv(g, Ke)
    cams = {}
    for c in ("left", "right"):
        Kc = f"K_{c}"
        T = f"T_eye_from_{c}"
        R = g.slice(T, [0, 0], [3, 3], [1, 2])
        t = g.slice(T, [0, 3], [3, 4], [1, 2])
        Rt = g.op("Transpose", R, perm=[0, 2, 1])
        cams[c] = dict(
            A_ec=g.op("MatMul", g.op("MatMul", Ke, R), _kinv(g, Kc)),
            b_ec=g.op("MatMul", Ke, t),
            A_ce=g.op("MatMul", g.op("MatMul", Kc, Rt), Ke_inv),
            b_ce=g.op("MatMul", Kc, g.op("Neg", g.op("MatMul", Rt, t))),
            dist2=g.op("ReduceSumSquare", t, g.i64([1, 2]), keepdims=1),  # [E,1,1]
        )

    # ---------------------------------------------------------------- 1. splat depth into eye cells
    g.section = "splat"
    ss = p.source_step
    us = g.op("Range", g.f(0.0), g.op("Squeeze", Wf), g.f(ss))
    vs = g.op("Range", g.f(0.0), g.op("Squeeze", Hf), g.f(ss))
    pix_s = _pixel_rows(g, us, vs)  # [3, Ns]
    Wsf = g.op("Cast", g.op("Size", us), to=f32)  # subsampled width / height
    Hsf = g.op("Cast", g.op("Size", vs), to=f32)
    Zl = _splat(g, p, cams, pix_s, Ef, Hlf, Wlf, kx, ky)

    # ---------------------------------------------------------------- 2. background-side depth fill
    g.section = "fill"
    Z = g.where(g.op("Less", Zl, g.f(BIG / 2)), Zl, g.f(-1.0))  # [E,1,Hl,Wl], -1 = empty
    Z = _close_cracks(g, Z)
    direct = g.op("Greater", Z, g.f(0.0))  # cells a camera pixel landed in (or a one-cell crack between two)
    k = 2 * POOL_RADIUS + 1
    for _ in range(p.fill_passes):
        m = g.op("MaxPool", Z, kernel_shape=[k, k], pads=[POOL_RADIUS] * 4)
        Z = g.add(Z, g.mul(g.op("Relu", g.op("Neg", Z)), g.add(m, g.f(1.0))))  # empty cells take the max
    covered = g.op("Greater", Z, g.f(0.0))  # [E,1,Hl,Wl]

    # ---------------------------------------------------------------- 3. inverse warp + visibility
    g.section = "visibility"
    uc = g.div(g.op("Range", g.f(0.0), g.op("Squeeze", Wlf), g.f(1.0)), kx)
    vc = g.div(g.op("Range", g.f(0.0), g.op("Squeeze", Hlf), g.f(1.0)), ky)
    pix_c = _pixel_rows(g, uc, vc)  # [3, Nl]
    shape_c = g.concat([g.i64([1, 1]), Hl, Wl], 0)
    uc4 = g.reshape(g.slice(pix_c, [0], [1], [0]), shape_c)  # [1,1,Hl,Wl]
    vc4 = g.reshape(g.slice(pix_c, [1], [2], [0]), shape_c)
    lowE = lambda ch: g.concat([g.i64([-1, ch]), Hl, Wl], 0)
    zflat = g.reshape(Z, [0, 1, -1])  # [E,1,Nl]
    vis, xy, inside = {}, {}, {}
    # Clip bounds (scalars, as Clip requires): the last pixel of the image and of the subsampled map
    w_max, h_max = (g.op("Squeeze", g.sub(v, g.f(1.0))) for v in (Wf, Hf))
    ws_max, hs_max = (g.op("Squeeze", g.sub(v, g.f(1.0))) for v in (Wsf, Hsf))
    for c in ("left", "right"):
        cm = cams[c]
        P = g.reshape(g.add(g.mul(g.op("MatMul", cm["A_ce"], pix_c), zflat), cm["b_ce"]), lowE(3))  # [E,3,Hl,Wl]
        zc = g.slice(P, [2], [3], [1])
        good = g.and_(covered, g.op("Greater", zc, g.f(p.near)))
        zc_safe = g.where(good, zc, g.f(1.0))
        xc = g.div(g.slice(P, [0], [1], [1]), zc_safe)
        yc = g.div(g.slice(P, [1], [2], [1]), zc_safe)
        inb = g.and_(good, g.op("GreaterOrEqual", xc, g.f(-0.5)), g.op("LessOrEqual", xc, g.sub(Wf, g.f(0.5))),
                     g.op("GreaterOrEqual", yc, g.f(-0.5)), g.op("LessOrEqual", yc, g.sub(Hf, g.f(0.5))))
        inside[c] = inb
        # the camera's depth is looked up in the same subsampled map that was splatted (consistent test)
        xs_ = g.op("Clip", g.mul(xc, g.f(1.0 / ss)), g.f(0.0), ws_max)
        ys_ = g.op("Clip", g.mul(yc, g.f(1.0 / ss)), g.f(0.0), hs_max)
        if p.maps:  # nearest lookup at the rounded position (GridSample nearest without the normalised-
            # coordinate round trip), as a flat GatherElements: onnxruntime's Gather copies per index (10x slower)
            # int32 indices, as the splat's
            flat = g.op("Cast", g.add(g.mul(g.op("Round", ys_), Wsf), g.op("Round", xs_)), to=TensorProto.INT32)
            looked = g.op("GatherElements", g.reshape(cm["sub"], [-1]), g.reshape(flat, [-1]), axis=0)
            zs = g.reshape(looked, lowE(1))  # [E,1,Hl,Wl]; outside the image it reads the clamped edge, but
            # vis below requires inb (a Where to 0 here, as the full variant's GridSample pads, would change nothing)
        else:
            gx = g.where(inb, g.sub(g.div(g.add(g.mul(xs_, g.f(2.0)), g.f(1.0)), Wsf), g.f(1.0)), g.f(-2.0))
            gy = g.where(inb, g.sub(g.div(g.add(g.mul(ys_, g.f(2.0)), g.f(1.0)), Hsf), g.f(1.0)), g.f(-2.0))
            grid = g.reshape(g.concat([g.reshape(gx, [0, 0, -1, 1]), g.reshape(gy, [0, 0, -1, 1])], 3), [1, -1, 0, 2])
            zs = g.reshape(g.op("GridSample", cm["sub"], grid, mode="nearest", padding_mode="zeros",
                                align_corners=0), lowE(1))  # [E,1,Hl,Wl]
        vis[c] = g.and_(inb, g.op("Greater", zs, g.f(0.0)),
                        g.op("GreaterOrEqual", zs, g.mul(zc, g.f(1.0 - p.tau))))
        xy[c] = (g.op("Clip", xc, g.f(0.0), w_max), g.op("Clip", yc, g.f(0.0), h_max))

    g.section = "holes"
    prefL = g.reshape(g.op("LessOrEqual", cams["left"]["dist2"], cams["right"]["dist2"]), [-1, 1, 1, 1])
    visL, visR = vis["left"], vis["right"]
    seen = g.or_(visL, visR)  # [E,1,Hl,Wl]
    selL = g.or_(g.and_(visL, g.or_(prefL, g.not_(visR))), g.and_(g.not_(seen), prefL))
    wcol = g.op("Cast", selL, to=f32)
    if p.blend:  # share of the left camera: proportional to 1 / distance among the cameras that see it
        dL = g.reshape(g.op("Sqrt", cams["left"]["dist2"]), [-1, 1, 1, 1])
        dR = g.reshape(g.op("Sqrt", cams["right"]["dist2"]), [-1, 1, 1, 1])
        a = g.mul(g.op("Cast", visL, to=f32), g.add(dR, g.f(1e-9)))
        b2 = g.mul(g.op("Cast", visR, to=f32), g.add(dL, g.f(1e-9)))
        soft = g.div(a, g.op("Max", g.add(a, b2), g.f(1e-20)))
        seen_f = g.op("Cast", seen, to=f32)
        wcol = g.add(wcol, g.mul(seen_f, g.sub(soft, wcol)))
    holes = g.not_(seen)
    # cells no camera sees: average the preferred camera's coordinates of seen neighbours weighted by
    # (z / (z + mean z))^16, i.e. (almost) only the farthest, background ones; passes grow into wide holes.
    # Then both cameras' coordinates of the cell move by the same shift, so the cell keeps its own offset
    # between the cameras (the parallax of the background depth it was filled with), and its share stays
    # the preferred camera's (``wcol``); model v6 averaged all five fields (twice the channels)
    prefLf = g.op("Cast", prefL, to=f32)  # [E,1,1,1]
    xyL, xyR = g.concat(list(xy["left"]), 1), g.concat(list(xy["right"]), 1)  # [E,2,Hl,Wl]
    xyP = g.add(xyR, g.mul(prefLf, g.sub(xyL, xyR)))
    zpos = g.op("Relu", Z)
    zmean = g.div(g.op("ReduceSum", zpos, keepdims=1),
                  g.op("Max", g.op("ReduceSum", g.op("Cast", covered, to=f32), keepdims=1), g.f(1.0)))
    zn = g.div(zpos, g.add(zpos, zmean))  # in [0, 1): bounded dynamic range whatever the depth unit/outliers
    for _ in range(4):
        zn = g.mul(zn, zn)  # ^16
    w = g.mul(g.op("Cast", seen, to=f32), g.op("Max", zn, g.f(1e-30)))  # [E,1,Hl,Wl]; > 0 exactly where seen
    # passes on the weighted sums S = [xyP * w, w]: a cell without weight takes its neighbourhood's average
    # (0 where no neighbour has weight), a cell with weight keeps its own; xyP = sum / weight at the end
    # (arithmetic instead of Where: S is exactly 0 where w is; onnxruntime's Where is ~3x slower than Mul)
    S = g.concat([g.mul(xyP, w), w], 1)  # [E,3,Hl,Wl]
    unweighted = lambda T: g.op("Cast", g.op("LessOrEqual", g.slice(T, [2], [3], [1]), g.f(0.0)), to=f32)
    for _ in range(p.hole_passes):
        A = g.op("AveragePool", S, kernel_shape=[k, k], pads=[POOL_RADIUS] * 4)
        S = g.add(S, g.mul(A, unweighted(S)))
    # push-pull: 2x2 averages (ceil: a last odd row/column averages alone) down the pyramid, then each
    # level's unweighted cells take their parent cell's value (nearest, floor: cell i -> i // 2 for both
    # even sizes and odd ones, size 2m - 1 -> m); linear upsampling cost 0.45 ms more for the same PSNR
    levels = [S]
    for _ in range(p.hole_levels):
        levels.append(g.op("AveragePool", levels[-1], kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1))
    S = levels[-1]
    for fine in reversed(levels[:-1]):
        up = g.op("Resize", S, "", "", g.op("Shape", fine), mode="nearest", coordinate_transformation_mode="asymmetric",
                  nearest_mode="floor")
        S = g.add(fine, g.mul(up, unweighted(fine)))
    # depth out: the fill's guess is kept where a camera looks (a disocclusion: the background's depth), not
    # where the cell's point lies outside both cameras' images (the periphery beyond their field of view:
    # unknown, so holograms there are not hidden behind an extrapolated surface)
    periphery = g.and_(g.not_(direct), g.not_(g.or_(inside["left"], inside["right"])))
    Zout = g.mul(g.op("Relu", Z), g.op("Cast", g.not_(periphery), to=f32))
    wS = g.slice(S, [2], [3], [1])
    filled = g.op("Cast", g.and_(g.not_(seen), g.op("Greater", wS, g.f(0.0))), to=f32)
    shift = g.mul(filled, g.sub(g.div(g.slice(S, [0], [2], [1]), g.op("Max", wS, g.f(1e-30))), xyP))  # [E,2,Hl,Wl]
    lim = g.reshape(g.concat([g.sub(Wf, one), g.sub(Hf, one)], 0), [1, 2, 1, 1])  # x, y upper bounds
    move = lambda xy2: g.op("Min", g.op("Max", g.add(xy2, shift), g.f(0.0)), lim)
    F = g.concat([move(xyL), move(xyR), wcol], 1)  # [E,5,Hl,Wl]

    if p.maps:  # stop here: the runtime upsamples the cells and gathers colour (reprojection.gather)
        g.section = "maps"
        g.op("Identity", F, name="cell_fields")
        g.op("Identity", Zout, name="cell_depth")
        g.op("Identity", holes, name="cell_holes")

    # ---------------------------------------------------------------- 4. full-resolution grid + sampling
    return _finish(g, p, inputs, outputs) if p.maps else _fullres(g, p, inputs, outputs, locals())


def _fullres(g: _Graph, p: ModelParams, inputs, outputs, v: dict) -> onnx.ModelProto:
    """Step 4 of the full variant: upsample the cell fields, resample colour, upsample depth."""
    f32 = TensorProto.FLOAT
    E, H, W, Hf, Wf, F, Zout, holes, prefL = (v[k] for k in ("E", "H", "W", "Hf", "Wf", "F", "Zout", "holes", "prefL"))
    g.section = "fullres"
    # grids are in GridSample's normalised units: of the stacked image (select) or of each image (blend)
    Hs = g.add(g.mul(Hf, g.f(2.0)), g.f(p.gap)) if not p.blend else Hf
    off_r = g.add(Hf, g.f(p.gap)) if not p.blend else g.f(0.0)
    cols = [g.slice(F, [i], [i + 1], [1]) for i in range(5)]
    # absolute sampling positions in normalised units (upsampling is exact for the linear pixel term)
    sx, sy = g.div(g.f(2.0), Wf), g.div(g.f(2.0), Hs)
    nx = lambda x: g.sub(g.mul(g.add(x, g.f(0.5)), sx), g.f(1.0))
    ny = lambda y, off: g.sub(g.mul(g.add(g.add(y, off), g.f(0.5)), sy), g.f(1.0))
    Lc = g.concat([nx(cols[0]), ny(cols[1], g.f(0.0))], 1)  # [E,2,Hl,Wl] left camera
    Rc = g.concat([nx(cols[2]), ny(cols[3], off_r)], 1)  # right camera (in the stacked image for select)
    up = lambda x, ch: g.op("Resize", x, "", "", g.concat([E, g.i64([ch]), H, W], 0), mode="linear",
                            coordinate_transformation_mode="align_corners")
    up_nearest = lambda x, ch: g.op("Resize", x, "", "", g.concat([E, g.i64([ch]), H, W], 0), mode="nearest",
                                    coordinate_transformation_mode="align_corners", nearest_mode="round_prefer_floor")
    g.op("Greater", up_nearest(g.op("Cast", holes, to=f32), 1), g.f(0.5), name="eye_holes")

    def sample(image, grid):
        """GridSample ``image`` [1,3,H,W] for both eyes with ``grid`` [E,H,W,2] in row bands -> E x [1,3,H,W]."""
        eyes = []
        for eg in g.op("Split", grid, outputs=N_EYES, axis=0, num_outputs=N_EYES):
            bands = g.op("Split", eg, outputs=p.bands, axis=1, num_outputs=p.bands) if p.bands > 1 else [eg]
            outs = [g.op("GridSample", image, bg, mode="bilinear", padding_mode="zeros", align_corners=0) for bg in bands]
            eyes.append(g.concat(outs, 2) if len(outs) > 1 else outs[0])
        return eyes

    if p.blend:
        eL = sample("left_image", g.op("Transpose", up(Lc, 2), perm=[0, 2, 3, 1]))
        eR = sample("right_image", g.op("Transpose", up(Rc, 2), perm=[0, 2, 3, 1]))
        WL = up_nearest(cols[4], 1)  # [E,1,H,W] share of the left camera
        wls = g.op("Split", WL, outputs=N_EYES, axis=0, num_outputs=N_EYES)
        eyes = [g.add(r, g.mul(w, g.sub(l, r))) for l, r, w in zip(eL, eR, wls)]
    else:
        # the eye's preferred (nearer) camera's positions are upsampled bilinearly; where a cell uses the
        # other camera, the per-cell offset to it is added (nearest): exact for the preferred camera,
        # piecewise-constant parallax correction for the other (only where the preferred one cannot see)
        prefLf = g.op("Cast", prefL, to=f32)  # [E,1,1,1]
        P = g.add(Rc, g.mul(prefLf, g.sub(Lc, Rc)))
        O = g.add(Lc, g.mul(prefLf, g.sub(Rc, Lc)))
        use_other = g.op("Xor", g.op("Greater", cols[4], g.f(0.5)), prefL)
        D = g.mul(g.op("Cast", use_other, to=f32), g.sub(O, P))
        grid = g.op("Transpose", g.add(up(P, 2), up_nearest(D, 2)), perm=[0, 2, 3, 1])  # [E,H,W,2]
        gapimg = g.op("ConstantOfShape", g.concat([g.i64([1, 3, p.gap]), W], 0),
                      value=numpy_helper.from_array(np.zeros(1, np.float32)))
        eyes = sample(g.concat(["left_image", gapimg, "right_image"], 2), grid)
    g.op("Concat", *eyes, axis=0, name="eye_images")

    # ------------------------------------------- eye depth (bilinear over the known cells; 0 = unknown)
    # normalised: depth = lin(Z) / lin(known) where lin(known) >= 1/2, else 0 (unknown), so a pixel between a
    # known and an unknown cell takes the known cell's depth instead of a blend with 0 (a false near surface)
    g.section = "depth"
    known = g.op("Cast", g.op("Greater", Zout, g.f(0.0)), to=f32)
    lin = lambda x: g.op("Resize", x, "", "", g.concat([E, g.i64([1]), H, W], 0), mode="linear",
                         coordinate_transformation_mode="align_corners")
    num, den = lin(Zout), lin(known)
    g.op("Mul", g.div(num, g.op("Max", den, g.f(0.5))), g.op("Cast", g.op("GreaterOrEqual", den, g.f(0.5)), to=f32),
         name="eye_depth")

    return _finish(g, p, inputs, outputs)


def _finish(g: _Graph, p: ModelParams, inputs, outputs) -> onnx.ModelProto:
    name = f"reprojection_v{MODEL_VERSION}_s{p.stride}{'' if p.blend else '_select'}{'_maps' if p.maps else ''}"
    graph = helper.make_graph(g.nodes, name, inputs, outputs, initializer=g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="passthrough.reprojection", producer_version=str(MODEL_VERSION),
                              ir_version=IR_VERSION)
    # (the full variants' text predates ``maps`` and is kept, so their bytes and hashes stay the same)
    desc = str(p) if p.maps else str(p).replace(", maps=False", "")
    model.doc_string = f"reprojection v{MODEL_VERSION}: {desc}"
    onnx.checker.check_model(model)
    return model


@functools.lru_cache(maxsize=None)
def model_bytes(stride: int = 4, blend: bool = True, maps: bool = False) -> bytes:
    """Serialized model variant (deterministic: same bytes on every call and machine)."""
    return make_model(ModelParams(stride=stride, blend=blend, maps=maps)).SerializeToString(deterministic=True)


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def build(cache_dir) -> List[Path]:
    """Write every model variant (:func:`model_filename`) into ``cache_dir``.

    Returns the written paths. Files are rewritten only if their bytes differ (atomic replace). Other
    ``reprojection-v{MODEL_VERSION}-*.onnx`` files in ``cache_dir`` (earlier builds of this version with
    other bytes) are removed; files of other model versions are kept, so checkouts of different versions
    can share one cache without deleting (and then rebuilding) each other's models (~0.5 MB a version).
    """
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for s, blend, maps in VARIANTS:
        data = model_bytes(s, blend, maps)
        path = cache_dir / model_filename(s, blend, maps)
        if not path.is_file() or path.read_bytes() != data:
            tmp = path.with_suffix(".onnx.tmp")
            tmp.write_bytes(data)
            tmp.replace(path)
        paths.append(path)
    keep = {p.name for p in paths}
    for old in cache_dir.glob(f"reprojection-v{MODEL_VERSION}-*.onnx"):  # stale builds of this version
        if old.name not in keep:
            old.unlink()
    return paths
