"""What a replay writes: per-eye composited frames (PNG and MP4), a depth colour-map video, a
hand-overlay video, a contact sheet, and CSVs with every stage timestamp.

Layout of ``--out DIR``::

    left_eye/NNNNNN.png, right_eye/NNNNNN.png   composited eye frames (every display frame)
    left_eye.mp4, right_eye.mp4                  the same as video at the display rate (an odd size padded by
                                                 one replicated column / row: the codec takes even sizes only)
    depth.mp4                                    colour-mapped depth of each camera frame (turbo on inverse depth, near = red;
                                                 one range per run, fitted to the first camera frame, see contact_sheet.png)
    hands.mp4                                    left rectified camera with tracked hand joints
    contact_sheet.png                            rows of: cameras | left eye | right eye | depth
    frames.csv                                   one row per display frame (FrameRecord fields)
    camera_frames.csv                            one row per camera frame (capture, stage times, hands)
"""

from __future__ import annotations

from pathlib import Path
from typing import List

import cv2
import numpy as np

from ..io.csvfile import write_csv
from ..io.images import to_bgr

SHEET_ROWS = 4
#: contact-sheet candidates kept in memory, whatever the sequence's length (see :class:`EvenlySpaced`)
SHEET_CANDIDATES = 32


class EvenlySpaced:
    """At most ``cap`` items of a stream of any length, evenly spaced over it: every ``stride``-th
    item is kept, and when more than ``cap`` are kept the stride doubles and every other one is dropped
    (memory stays bounded on a sequence of thousands of frames; the first item is always kept).

    ``offer(make)`` calls ``make()`` only for an item that is kept.
    """

    def __init__(self, cap: int = SHEET_CANDIDATES):
        if cap < 1:
            raise ValueError("cap must be >= 1")
        self.cap = int(cap)
        self.stride = 1
        self.seen = 0
        self.items: List = []

    def offer(self, make) -> None:
        if self.seen % self.stride == 0:
            self.items.append(make())
            if len(self.items) > self.cap:
                self.items = self.items[::2]
                self.stride *= 2
        self.seen += 1


def depth_display_range(depth_m: np.ndarray, default=(0.3, 6.0)) -> tuple:
    """``(near, far)`` metres for :func:`depth_colormap` that fit a scene: the 2nd and 98th percentiles of
    its finite positive depth, widened by 10 % (a room spans ~0.4-6 m, a road ~5-80 m: one fixed range
    paints a road a single colour). ``default`` where under 1 % of the pixels have a depth."""
    d = np.asarray(depth_m, np.float32)
    d = d[np.isfinite(d) & (d > 0)]
    if d.size < max(16, 0.01 * np.size(depth_m)):
        return default
    near, far = np.percentile(d, [2, 98])
    near, far = float(near) / 1.1, float(far) * 1.1
    return near, max(far, near * 1.5)


def depth_colormap(depth_m: np.ndarray, near: float = 0.3, far: float = 6.0) -> np.ndarray:
    """float32 (H, W) metres -> uint8 (H, W, 3) BGR, turbo colour map on inverse depth (near = red),
    black where unknown."""
    inv = np.clip((1.0 / np.clip(np.nan_to_num(depth_m, nan=np.inf), near, far) - 1 / far) / (1 / near - 1 / far), 0, 1)
    img = cv2.applyColorMap((inv * 255).astype(np.uint8), cv2.COLORMAP_TURBO)
    img[~np.isfinite(depth_m)] = 0
    return img


class _Video:
    """An MP4 (MPEG-4 part 2) of the frames written; an odd width or height is padded by one replicated
    column or row (the codec takes even sizes only and would drop the last column: KITTI's 1241 px)."""

    def __init__(self, path: Path, fps: float):
        self.path, self.fps, self.writer = path, fps, None

    def write(self, img: np.ndarray) -> None:
        h, w = img.shape[:2]
        if h % 2 or w % 2:
            img = cv2.copyMakeBorder(img, 0, h % 2, 0, w % 2, cv2.BORDER_REPLICATE)
        if self.writer is None:
            self.writer = cv2.VideoWriter(str(self.path), cv2.VideoWriter_fourcc(*"mp4v"), self.fps,
                                          (img.shape[1], img.shape[0]))
        self.writer.write(img)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.release()


class PreviewWindow:
    """A live window showing both eyes: OpenCV's HighGUI where the installed OpenCV has it, else a
    matplotlib window (TkAgg; the project installs the headless OpenCV). Raises
    :class:`~passthrough.errors.InputError` when neither can open a window (no display)."""

    TITLE = "passthrough (left | right eye)"

    def __init__(self):
        from ..errors import InputError

        self._plt = self._img = None
        try:
            cv2.namedWindow(self.TITLE)
            return
        except cv2.error:
            pass
        try:
            import matplotlib

            matplotlib.use("TkAgg", force=True)
            import matplotlib.pyplot as plt

            plt.ion()
            self._fig = plt.figure(self.TITLE)
            self._plt = plt
        except Exception as exc:  # no Tk, no display
            raise InputError(None, f"--preview needs a display and a GUI toolkit (OpenCV HighGUI or Tk): {exc}") from None

    def show(self, bgr: np.ndarray) -> None:
        if self._plt is None:
            cv2.imshow(self.TITLE, bgr)
            cv2.waitKey(1)
            return
        rgb = bgr[..., ::-1]
        if self._img is None:
            self._img = self._plt.imshow(rgb)
            self._plt.axis("off")
        else:
            self._img.set_data(rgb)
        self._plt.pause(0.001)

    def close(self) -> None:
        if self._plt is None:
            cv2.destroyAllWindows()
        else:
            self._plt.close(self._fig)


def sheet_rows(candidates, rows: int = SHEET_ROWS) -> list:
    """The contact sheet's rows from ``(camera_index, thumbnail)`` candidates in display order: evenly
    spaced over *different* camera frames where there are at least ``rows`` of them (the first thumbnail
    of each), else evenly spaced over all candidates (a short run: the same camera frame at other head
    poses)."""
    firsts, seen = [], set()
    for cam_index, img in candidates:
        if cam_index not in seen:
            seen.add(cam_index)
            firsts.append(img)
    pool = firsts if len(firsts) >= rows else [img for _, img in candidates]
    if not pool:
        return []
    idx = np.linspace(0, len(pool) - 1, num=min(rows, len(pool))).round().astype(int)
    return [pool[i] for i in idx]


class ReplayWriter:
    """Callbacks for :meth:`Pipeline.run_virtual` / :meth:`Pipeline.run_realtime` that write the outputs."""

    #: the top-level names it writes into ``out`` (see the module docstring)
    WRITES = ("left_eye", "right_eye", "left_eye.mp4", "right_eye.mp4", "depth.mp4", "hands.mp4", "frames.csv",
              "camera_frames.csv", "contact_sheet.png")

    def __init__(self, out: Path, display_hz: float, camera_hz: float, write_png: bool = True, preview: bool = False):
        self.out = Path(out)
        for d in ("left_eye", "right_eye"):
            (self.out / d).mkdir(parents=True, exist_ok=True)
        self.write_png = write_png
        self.eye_videos = [_Video(self.out / "left_eye.mp4", display_hz), _Video(self.out / "right_eye.mp4", display_hz)]
        self.depth_video = _Video(self.out / "depth.mp4", camera_hz)
        self.hand_video = _Video(self.out / "hands.mp4", camera_hz)
        self.records: List[dict] = []
        self.camera_rows: List[dict] = []
        self._thumbs = EvenlySpaced()
        self._last_cam = -1
        self.depth_range = None  # (near, far) m of the depth colours: fitted to the first camera frame, then kept
        self.preview = PreviewWindow() if preview else None

    def _depth_colours(self, depth_m: np.ndarray) -> np.ndarray:
        """:func:`depth_colormap` with one range for the whole run, fitted to the first depth map it sees
        (colours mean the same depth in every frame)."""
        if self.depth_range is None:
            self.depth_range = depth_display_range(depth_m)
        return depth_colormap(depth_m, *self.depth_range)

    def on_camera(self, cam, hands) -> None:
        depth_img = self._depth_colours(cam.depth_left)
        self.depth_video.write(depth_img)
        overlay = to_bgr(cam.left_gray).copy()
        n_hands = 0
        if hands is not None and hands.raw is not None:
            from hand_tracking.evaluate import draw_hands

            views = [h.left for h in hands.raw.hands if h.left is not None]
            n_hands = len(hands.raw.hands)
            overlay = draw_hands(overlay, views)
        self.hand_video.write(overlay)
        self.camera_rows.append({"camera_index": cam.index, "t_capture_ns": cam.t_capture_ns,
                                 "t_depth_done_ns": cam.t_done_ns, "rectify_ms": round(cam.rectify_ms, 3),
                                 "depth_ms": round(cam.depth_ms, 3), "prepare_ms": round(cam.prepare_ms, 3),
                                 "hands": n_hands})

    def on_frame(self, rec, disp, cam, hands, views) -> None:
        k = rec.display_index
        for e, name in enumerate(("left_eye", "right_eye")):
            img = disp.eyes_bgr[e]
            if self.write_png:
                cv2.imwrite(str(self.out / name / f"{k:06d}.png"), img)
            self.eye_videos[e].write(img)
        self.records.append(rec.as_row())
        if cam.index != self._last_cam or k % 45 == 0:
            self._last_cam = cam.index

            def thumb():
                row = np.hstack([np.hstack([cam.left_bgr, cam.right_bgr]), disp.eyes_bgr[0], disp.eyes_bgr[1],
                                 self._depth_colours(disp.eye_depth[0])])
                return cam.index, cv2.resize(row, (row.shape[1] // 3, row.shape[0] // 3), interpolation=cv2.INTER_AREA)

            self._thumbs.offer(thumb)
        if self.preview is not None:
            self.preview.show(np.hstack([disp.eyes_bgr[0], disp.eyes_bgr[1]]))

    def close(self) -> None:
        for v in (*self.eye_videos, self.depth_video, self.hand_video):
            v.close()
        for name, rows in (("frames.csv", self.records), ("camera_frames.csv", self.camera_rows)):
            write_csv(self.out / name, rows)
        thumbs = sheet_rows(self._thumbs.items)
        if thumbs:
            sheet = np.vstack(thumbs)
            h = 22
            header = np.zeros((h, sheet.shape[1], 3), np.uint8)
            w4 = thumbs[0].shape[1] / 5
            near, far = self.depth_range  # set by the thumbnails' own depth colours at the latest
            depth_label = f"left eye depth ({near:.1f}-{far:.1f} m, red = near)"
            for i, label in enumerate(("cameras (left | right)", "", "left eye", "right eye", depth_label)):
                if label:
                    cv2.putText(header, label, (int(i * w4) + 4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1)
            cv2.imwrite(str(self.out / "contact_sheet.png"), np.vstack([header, sheet]))
        if self.preview is not None:
            self.preview.close()
