"""``passthrough synth``: render a headset-like rig-v1 set with exact ground truth.

The scene is a room of textured rectangles (back wall, side walls, floor, ceiling, a panel in mid-room
and a small object ~0.6 m in front of the cameras that causes disocclusions), textured with real photos
from ``../shared/data`` (Middlebury 2014 images). It is ray-cast in numpy (each pixel's ray against each
rectangle, nearest hit wins), rendered at 2x the output size and area-downscaled (anti-aliasing).

Views (OpenCV axes, metres, world = the head frame): two cameras ``cam_left``/``cam_right`` 90 deg
horizontal FOV, ``baseline`` apart (default 7 cm) on the x axis, looking +z; two eyes
``eye_left``/``eye_right`` with IPD 63 mm, 9 cm behind the cameras, toed in by 1 deg each (any pose, not
just a shift). Inputs are the cameras, targets the eyes; ``ground_truth_disparity`` is the exact
disparity of ``cam_left`` (uint16 PNG, scale 64, for the camera baseline). ``--camera-yaw-deg`` turns the
cameras (a toed rig whose inputs are not a rectified pair; then there is no ground-truth disparity). ``depth_<view>.npy`` holds
every view's exact z-depth (float32, metres) for tests.

``--sequence N`` writes a stream instead (:func:`render_sequence`): the two cameras only, the near object
replaced by a hand-sized plate that moves left and right in front of the static rig, in the KITTI
odometry layout, for what moving near objects cost (the image-first mode's early frames).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Dict, List, Tuple

import cv2
import numpy as np

from passthrough.cache import shared_data_dir
from passthrough.errors import InputError
from passthrough.io.images import read_image

#: texture photos: :func:`passthrough.cache.shared_data_dir` (``$PASSTHROUGH_SHARED_DATA`` or ../shared/data)
DEFAULT_DATA = shared_data_dir()
#: the set's views: the two input cameras, then the two eyes (targets)
VIEWS = ("cam_left", "cam_right", "eye_left", "eye_right")
TEXTURE_SCENES = ("Adirondack", "Jadeplant", "Motorcycle", "Piano", "Pipes", "Playroom", "Recycle")

#: (axis, value, (lo, hi) on the first other axis, (lo, hi) on the second, texture index, metres per texture)
#: Other axes are in increasing order (axis 0 -> y, z; axis 1 -> x, z; axis 2 -> x, y).
ROOM = [
    (2, 3.2, (-1.6, 1.6), (-1.3, 1.2), 0, 2.0),    # back wall
    (0, -1.6, (-1.3, 1.2), (0.0, 3.2), 1, 1.6),    # left wall
    (0, 1.6, (-1.3, 1.2), (0.0, 3.2), 2, 1.6),     # right wall
    (1, 1.2, (-1.6, 1.6), (0.0, 3.2), 3, 1.5),     # floor (+y is down)
    (1, -1.3, (-1.6, 1.6), (0.0, 3.2), 4, 1.5),    # ceiling
    (2, 1.7, (-0.9, -0.15), (-0.45, 0.55), 5, 0.8),  # panel in mid-room
    (2, 0.6, (0.02, 0.26), (-0.14, 0.18), 6, 0.3),   # near object
]


def rot_y(deg: float) -> np.ndarray:
    """(3, 3) rotation about +y (OpenCV: positive turns +z towards +x)."""
    a = np.deg2rad(deg)
    return np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])


def make_views(width: int, height: int, baseline: float = 0.07, ipd: float = 0.063, eye_back: float = 0.09,
               toe_in_deg: float = 1.0, fov_deg: float = 90.0,
               camera_yaw_deg: Tuple[float, float] = (0.0, 0.0)) -> Tuple[np.ndarray, Dict[str, np.ndarray]]:
    """Intrinsics (3, 3) shared by all views and ``T_world_from_camera`` per view name. ``camera_yaw_deg``
    turns the two cameras about +y (a toed-out or toed-in rig, not a rectified pair)."""
    f = (width / 2) / np.tan(np.deg2rad(fov_deg) / 2)
    K = np.array([[f, 0, (width - 1) / 2], [0, f, (height - 1) / 2], [0, 0, 1.0]])
    T = {}
    places = ((-baseline / 2, 0.0, camera_yaw_deg[0]), (baseline / 2, 0.0, camera_yaw_deg[1]),
              (-ipd / 2, -eye_back, toe_in_deg),
              (ipd / 2, -eye_back, -toe_in_deg))
    for name, (x, z, yaw) in zip(VIEWS, places):
        M = np.eye(4)
        M[:3, :3] = rot_y(yaw)
        M[:3, 3] = [x, 0.0, z]
        T[name] = M
    return K, T


def load_textures(data_dir: Path) -> List[np.ndarray]:
    """Real photos used as textures (uint8 BGR)."""
    root = Path(data_dir) / "stereo" / "middlebury2014-trainingQ-images"
    out = []
    for s in TEXTURE_SCENES:
        p = root / s / "im0.png"
        if not p.is_file():
            raise InputError(p, "texture photo not found (synth needs ../shared/data, $PASSTHROUGH_SHARED_DATA or --data)")
        out.append(read_image(p))
    return out


def raycast(K: np.ndarray, T_world_from_camera: np.ndarray, width: int, height: int,
            textures: List[np.ndarray], room=None) -> Tuple[np.ndarray, np.ndarray]:
    """Render one view of ``room`` (rectangles as in :data:`ROOM`, the default): ``(image uint8 (H, W, 3)
    BGR, z-depth float32 (H, W) metres)``."""
    v, u = np.mgrid[0:height, 0:width].astype(np.float64)
    d_cam = np.stack([(u - K[0, 2]) / K[0, 0], (v - K[1, 2]) / K[1, 1], np.ones_like(u)], -1)
    R, o = T_world_from_camera[:3, :3], T_world_from_camera[:3, 3]
    d = d_cam @ R.T  # world directions; the camera-frame z of d_cam is 1, so t is the z-depth
    best_t = np.full((height, width), np.inf)
    img = np.zeros((height, width, 3), np.float32)
    for axis, val, r1, r2, tex_i, metres in (ROOM if room is None else room):
        a1, a2 = [a for a in range(3) if a != axis]
        with np.errstate(divide="ignore", invalid="ignore"):
            t = (val - o[axis]) / d[..., axis]
        p1 = o[a1] + t * d[..., a1]
        p2 = o[a2] + t * d[..., a2]
        hit = (t > 1e-6) & (p1 >= r1[0]) & (p1 <= r1[1]) & (p2 >= r2[0]) & (p2 <= r2[1]) & (t < best_t)
        if not hit.any():
            continue
        tex = textures[tex_i % len(textures)]
        th, tw = tex.shape[:2]
        # texture coordinates: metres -> pixels, mirrored-repeat so large surfaces stay continuous
        s1 = (p1 - r1[0]) / metres * tw
        s2 = (p2 - r2[0]) / metres * tw
        mx = np.abs(((s1 / (tw - 1)) + 1) % 2 - 1) * (tw - 1)
        my = np.abs(((s2 / (th - 1)) + 1) % 2 - 1) * (th - 1)
        sample = cv2.remap(tex, mx.astype(np.float32), my.astype(np.float32), cv2.INTER_LINEAR)
        img[hit] = sample[hit]
        best_t[hit] = t[hit]
    depth = np.where(np.isfinite(best_t), best_t, 0).astype(np.float32)
    return np.clip(img, 0, 255).astype(np.uint8), depth


def render_set(out: Path, width: int = 640, height: int = 512, supersample: int = 2, data_dir: Path = DEFAULT_DATA,
               baseline: float = 0.07, camera_yaw_deg: Tuple[float, float] = (0.0, 0.0)) -> Path:
    """Write a rig-v1 set to ``out`` (images, ``rig.json``, GT disparity, depth .npy). Returns ``out``.
    With ``camera_yaw_deg`` other than zero the inputs are not a rectified pair and the set has no
    ground-truth disparity (it is defined for a rectified pair)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    textures = load_textures(data_dir)
    Wb, Hb = width * supersample, height * supersample
    Kb, T = make_views(Wb, Hb, baseline=baseline, camera_yaw_deg=camera_yaw_deg)
    K, _ = make_views(width, height, baseline=baseline)
    cams = {}
    for name, M in T.items():
        img, z = raycast(Kb, M, Wb, Hb, textures)
        img = cv2.resize(img, (width, height), interpolation=cv2.INTER_AREA)
        z = z.reshape(height, supersample, width, supersample).min(axis=(1, 3))  # nearest surface per pixel
        cv2.imwrite(str(out / f"{name}.png"), img)
        np.save(out / f"depth_{name}.npy", z)
        cams[name] = {"image": f"{name}.png", "K": K.tolist(), "T_world_from_camera": M.tolist()}
        if name == "cam_left":
            zl = z
    if not any(camera_yaw_deg):  # disparity is defined for a rectified pair only
        disp = np.where(zl > 0, K[0, 0] * baseline / np.maximum(zl, 1e-6), 0)
        cv2.imwrite(str(out / "disp_cam_left.png"), np.clip(np.rint(disp * 64), 0, 65535).astype(np.uint16))
    rig = {
        "format": "rig-v1",
        "note": "synthetic headset-like rig rendered by `passthrough synth` (metres); textures are Middlebury 2014 photos",
        "width": width, "height": height, "cameras": cams,
        "inputs": {"left": "cam_left", "right": "cam_right"},
        "targets": ["eye_left", "eye_right"],
        "ground_truth_disparity": {"image": "disp_cam_left.png", "view": "cam_left", "scale": 64,
                                   "baseline": baseline, "invalid": 0},
    }
    if any(camera_yaw_deg):
        del rig["ground_truth_disparity"]
        rig["note"] += f"; cameras yawed by {camera_yaw_deg[0]:g} / {camera_yaw_deg[1]:g} deg (not a rectified pair)"
    (out / "rig.json").write_text(json.dumps(rig, indent=1) + "\n")
    return out


#: The moving hand of :func:`render_sequence`: a hand-sized plate (width, height in metres) ...
HAND_SIZE = (0.10, 0.18)
#: ... this far in front of the cameras (metres; arm's length is ~0.3-0.6 m) ...
HAND_DEPTH = 0.40
#: ... sweeping left and right at constant speed, its centre within +-HAND_SWEEP m of the rig's axis.
HAND_SWEEP = 0.15
#: Marker file of a sequence folder (its parameters): a folder holding it is an earlier sequence of this
#: command, and only then are its frames rewritten.
SEQUENCE_MARKER = "synth_sequence.json"
SEQUENCE_FILES = frozenset({"image_l", "image_r", "calib.txt", "times.txt", "poses.txt", SEQUENCE_MARKER})


def hand_x(t_s: float, speed: float) -> float:
    """Centre x (metres) of the moving hand at time ``t_s`` (s): from 0 towards +x at ``speed`` (m/s), back
    and forth within +-:data:`HAND_SWEEP` (a triangle wave); 0 for a hand that does not move."""
    if speed <= 0:
        return 0.0
    a = HAND_SWEEP
    d = (t_s * speed) % (4 * a)  # distance travelled within one cycle 0 -> +a -> -a -> 0
    return d if d < a else (2 * a - d if d < 3 * a else d - 4 * a)


def sequence_room(x_centre: float) -> list:
    """:data:`ROOM` with its near object replaced by the hand plate centred at ``x_centre``."""
    w, h = HAND_SIZE
    return ROOM[:-1] + [(2, HAND_DEPTH, (x_centre - w / 2, x_centre + w / 2), (0.05 - h / 2, 0.05 + h / 2), 6, 0.3)]


#: Head sway of a sequence (:func:`head_pose`): period (s), and side-to-side travel and yaw per metre of
#: ``--head-sway`` amplitude (a 5 cm sway turns the head +-5 deg, peak 16 cm/s and 16 deg/s: a user
#: looking around calmly).
SWAY_PERIOD_S = 2.0
SWAY_YAW_DEG_PER_M = 100.0


def head_pose(t_s: float, sway_m: float) -> np.ndarray:
    """(4, 4) ``T_world_from_head`` of a sequence at ``t_s``: the head sways sideways by ``sway_m`` (m,
    amplitude) and turns with it (:data:`SWAY_YAW_DEG_PER_M`), period :data:`SWAY_PERIOD_S`; identity
    for ``sway_m`` 0 (a static rig). The head frame is the room's at t = 0 (OpenCV axes)."""
    s = np.sin(2 * np.pi * t_s / SWAY_PERIOD_S)
    T = np.eye(4)
    T[:3, :3] = rot_y(SWAY_YAW_DEG_PER_M * sway_m * s)
    T[0, 3] = sway_m * s
    return T


def render_sequence(out: Path, frames: int, speed: float, width: int = 640, height: int = 480, supersample: int = 2,
                    data_dir: Path = DEFAULT_DATA, baseline: float = 0.07, rate_hz: float = 30.0,
                    sway_m: float = 0.0) -> Path:
    """Write a stereo sequence of the room with a hand-sized plate moving at ``speed`` m/s (:func:`hand_x`)
    in front of the rig (static, or swaying with the head by ``sway_m``: :func:`head_pose`), in the KITTI
    odometry layout (read by
    :class:`passthrough.datasets.kitti.KittiOdometrySource`): ``image_l/ image_r/`` colour PNG frames,
    ``calib.txt`` (``P0:``/``P1:`` rows of the rectified pair), ``times.txt`` (``rate_hz``), ``poses.txt``
    (``T_world_from_cam0`` per frame; world = the room's frame of :data:`ROOM`) and :data:`SEQUENCE_MARKER` (parameters and the
    hand's position per frame). Returns ``out``."""
    out = Path(out)
    textures = load_textures(data_dir)
    Wb, Hb = width * supersample, height * supersample
    Kb, T = make_views(Wb, Hb, baseline=baseline)
    K, _ = make_views(width, height, baseline=baseline)
    dirs = {name: out / sub for name, sub in (("cam_left", "image_l"), ("cam_right", "image_r"))}
    for d in dirs.values():
        d.mkdir(parents=True, exist_ok=True)
        for old in d.glob("*.png"):  # an earlier sequence's frames (the marker said the folder is ours)
            old.unlink()
    xs, poses = [], []
    for i in range(frames):
        x = hand_x(i / rate_hz, speed)
        xs.append(round(x, 6))
        room = sequence_room(x)
        T_head = head_pose(i / rate_hz, sway_m)
        poses.append(T_head @ T["cam_left"])
        for name, d in dirs.items():
            img, _ = raycast(Kb, T_head @ T[name], Wb, Hb, textures, room)
            cv2.imwrite(str(d / f"{i:06d}.png"), cv2.resize(img, (width, height), interpolation=cv2.INTER_AREA))
    P0 = np.hstack([K, np.zeros((3, 1))])
    P1 = P0.copy()
    P1[0, 3] = -K[0, 0] * baseline
    row = lambda M: " ".join(f"{v:.12g}" for v in np.asarray(M, np.float64).ravel())
    (out / "calib.txt").write_text(f"P0: {row(P0)}\nP1: {row(P1)}\n")
    (out / "times.txt").write_text("".join(f"{i / rate_hz:.9f}\n" for i in range(frames)))
    (out / "poses.txt").write_text("".join(row(P[:3]) + "\n" for P in poses))
    marker = {"format": "synth-sequence", "layout": "kitti-odometry", "frames": frames, "rate_hz": rate_hz,
              "hand_speed_m_s": speed, "hand_size_m": list(HAND_SIZE), "hand_depth_m": HAND_DEPTH,
              "width": width, "height": height, "baseline_m": baseline, "hand_x_m": xs,
              "head_sway_m": sway_m, "head_sway_period_s": SWAY_PERIOD_S,
              "note": "synthetic room (Middlebury 2014 photos as textures) with a hand-sized plate moving in "
                      "front of the rig, rendered by `passthrough synth --sequence`"}
    (out / SEQUENCE_MARKER).write_text(json.dumps(marker, indent=1) + "\n")
    return out


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, required=True, help="folder to write the rig-v1 set into")
    parser.add_argument("--width", type=int, default=640, help="output width (default 640)")
    parser.add_argument("--height", type=int, default=None, help="output height (default 512; 480 with --sequence)")
    parser.add_argument("--supersample", type=int, default=2, help="render at this factor, then downscale (default 2)")
    parser.add_argument("--baseline", type=float, default=0.07, help="camera baseline in metres (default 0.07)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="shared data folder holding the texture photos")
    parser.add_argument("--camera-yaw-deg", type=float, nargs=2, default=(0.0, 0.0), metavar=("LEFT", "RIGHT"),
                        help="turn the two cameras about the vertical axis (toed out / in: inputs that are not a "
                             "rectified pair; no ground-truth disparity then). Default 0 0")
    parser.add_argument("--sequence", type=int, default=None, metavar="N",
                        help="write a stereo sequence of N frames instead (KITTI odometry layout, 640x480 unless "
                             "told, 30 Hz): a hand-sized plate 0.4 m in front of a static rig moves left and right "
                             "at --hand-speed (for what moving near objects cost, e.g. `passthrough bench pipeline "
                             "--early-image --dataset DIR`)")
    parser.add_argument("--hand-speed", type=float, default=None,
                        help="speed of the sequence's hand in m/s (default 0.5; 0 = still)")
    parser.add_argument("--head-sway", type=float, default=0.0, metavar="M",
                        help="the sequence's rig sways sideways by M metres (amplitude, 2 s period) and turns with "
                             "it (+-1 deg per cm): a head looking around; poses.txt holds the poses (default 0: "
                             "a static rig)")


#: The files :func:`render_set` writes: an existing ``--out`` folder may hold these and nothing else
#: (:func:`passthrough.io.out_folder.prepare_out_folder`).
SET_FILES = frozenset({"rig.json", "disp_cam_left.png"} | {f"{n}.png" for n in VIEWS} | {f"depth_{n}.npy" for n in VIEWS})


def main(args) -> int:
    if args.height is None:
        args.height = 480 if args.sequence is not None else 512
    if not (16 <= args.width <= 4096 and 16 <= args.height <= 4096):
        raise InputError(None, f"--width and --height must be 16..4096 px, got {args.width}x{args.height}")
    if not 1 <= args.supersample <= 4:
        raise InputError(None, f"--supersample must be 1..4, got {args.supersample}")
    if not 0 < args.baseline <= 1.0:  # a headset rig: centimetres (also refuses nan and inf)
        raise InputError(None, f"--baseline must be > 0 and <= 1 metre, got {args.baseline}")
    yaw = tuple(args.camera_yaw_deg)
    if not all(abs(a) <= 30.0 for a in yaw):  # also refuses nan
        raise InputError(None, f"--camera-yaw-deg must be within +-30 degrees, got {yaw[0]:g} {yaw[1]:g}")
    from passthrough.io.out_folder import prepare_out_folder

    if args.sequence is None:
        for flag, given in (("--head-sway", args.head_sway), ("--hand-speed", args.hand_speed is not None)):
            if given:
                raise InputError(None, f"{flag} is for a --sequence (a rig-v1 set is one still rig)")
    else:
        if args.hand_speed is None:
            args.hand_speed = 0.5
        if not 2 <= args.sequence <= 10000:
            raise InputError(None, f"--sequence must be 2..10000 frames, got {args.sequence}")
        if not 0 <= args.hand_speed <= 5.0:  # also refuses nan
            raise InputError(None, f"--hand-speed must be 0..5 m/s, got {args.hand_speed}")
        if not 0 <= args.head_sway <= 0.2:
            raise InputError(None, f"--head-sway must be 0..0.2 m, got {args.head_sway}")
        if yaw != (0.0, 0.0):
            raise InputError(None, "--camera-yaw-deg is for rig-v1 sets; a --sequence is a rectified pair")
        out = Path(args.out)
        if out.is_dir() and any(out.iterdir()) and not (out / SEQUENCE_MARKER).is_file():
            raise InputError(out, f"output folder is not empty and holds no {SEQUENCE_MARKER} (not an earlier "
                                  "sequence of this command); nothing is overwritten: choose a new or empty folder")
        prepare_out_folder(out, SEQUENCE_FILES, folders={"image_l": ("*.png",), "image_r": ("*.png",)})
        render_sequence(out, args.sequence, args.hand_speed, args.width, args.height, args.supersample, args.data,
                        args.baseline, sway_m=args.head_sway)
        print(f"wrote {args.sequence}-frame sequence {out} ({args.width}x{args.height}, 30 Hz, KITTI odometry layout; "
              f"hand plate at {HAND_DEPTH:g} m moving at {args.hand_speed:g} m/s"
              + (f"; head swaying by {args.head_sway:g} m)" if args.head_sway else ")"))
        return 0
    prepare_out_folder(args.out, SET_FILES)
    out = render_set(args.out, args.width, args.height, args.supersample, args.data, args.baseline, yaw)
    print(f"wrote rig-v1 set {out} ({args.width}x{args.height}, inputs cam_left+cam_right, targets eye_left, eye_right)")
    return 0
