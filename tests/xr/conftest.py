"""Fixtures for the OpenXR tests: a real Monado runtime in the project's trixie root (scripts/xr-runtime).

The runtime tests need root (debootstrap, chroot, mount). As root (CI) the session fixture sets the root up
(cached; minutes the first time), starts Xvfb + monado-service at 90 Hz, and always stops them at the end.
Without root they are skipped with the reason. Tests that need no runtime (geometry of the eye views, the
stage, hologram files) run everywhere.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest

# PyOpenGL picks its platform at first import (pyopenxr imports it): headless EGL for the GL tests here.
os.environ.setdefault("EGL_PLATFORM", "surfaceless")
os.environ.setdefault("PYOPENGL_PLATFORM", "egl")

PROJECT = Path(__file__).resolve().parents[2]
SCRIPT = PROJECT / "scripts" / "xr-runtime"


def _root_dir() -> Path:
    return Path(os.environ.get("PASSTHROUGH_XR_ROOT", "/var/cache/passthrough-xr-root"))


class XrRuntime:
    """Handle on the started runtime: run commands inside the root, share files with them, restart."""

    def __init__(self, root: Path):
        self.root = root
        self.state_dir = root / "var" / "lib" / "passthrough-xr"
        self.scratch_in_root = Path("/tmp/xrtests") / uuid.uuid4().hex[:8]
        self.scratch = root / self.scratch_in_root.relative_to("/")
        self.scratch.mkdir(parents=True, exist_ok=True)

    def host_path(self, inside: Path) -> Path:
        """Host path of a path inside the root."""
        return self.root / Path(inside).relative_to("/")

    def scratch_pair(self, name: str):
        """``(inside, host)`` paths of a fresh scratch folder both sides can use."""
        inside = self.scratch_in_root / name
        host = self.host_path(inside)
        shutil.rmtree(host, ignore_errors=True)
        host.mkdir(parents=True)
        return inside, host

    def cmd(self, *args) -> list:
        return [str(SCRIPT), "exec", *map(str, args)]

    def run(self, *args, timeout: float = 120, env=None) -> subprocess.CompletedProcess:
        """Run ``args`` inside the root and wait (``subprocess.run``; raises TimeoutExpired on a hang)."""
        return subprocess.run(self.cmd(*args), capture_output=True, text=True, timeout=timeout,
                              env=None if env is None else {**os.environ, **env})

    def popen(self, *args, env=None) -> subprocess.Popen:
        """Start ``args`` inside the root; its PID is the program's (xr-runtime exec execs)."""
        return subprocess.Popen(self.cmd(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=None if env is None else {**os.environ, **env})

    def app(self, *args, **kw) -> subprocess.CompletedProcess:
        """``passthrough ARGS`` inside the root."""
        return self.run("python", "-m", "passthrough.cli", *args, **kw)

    def monado_pid(self) -> int:
        return int((self.state_dir / "monado.pid").read_text())

    def stop(self) -> None:
        subprocess.run([str(SCRIPT), "stop"], check=True, capture_output=True, timeout=60)

    def restart(self) -> None:
        self.stop()
        r = subprocess.run([str(SCRIPT), "start"], capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr

    def capture_screen(self):
        """The Xvfb screen as RGB (H, W, 3) via ``xwd -root`` inside the root."""
        from openxr_app.capture import parse_xwd

        r = subprocess.run(self.cmd("xwd", "-root", "-silent"), capture_output=True, timeout=60)
        assert r.returncode == 0, r.stderr.decode(errors="replace")
        return parse_xwd(r.stdout)

    def windows(self) -> list:
        """Top-level X windows as ``(x, y, w, h)`` from ``xwininfo -root -children``."""
        r = subprocess.run(self.cmd("xwininfo", "-root", "-children"), capture_output=True, text=True, timeout=60)
        out = []
        for line in r.stdout.splitlines():
            # e.g. '     0x200001 "Monado": ()  640x360+0+0  +0+0'
            parts = line.split()
            for p in parts:
                if "x" in p and p.count("+") == 2 and p[0].isdigit():
                    size, x, y = p.split("+")
                    w, h = size.split("x")
                    out.append((int(x), int(y), int(w), int(h)))
                    break
        return out

    def cleanup(self) -> None:
        shutil.rmtree(self.scratch, ignore_errors=True)


@pytest.fixture(scope="session")
def xr_runtime():
    """A started Monado (simulated HMD, 90 Hz, Xvfb :99) in the trixie root; stopped at the end."""
    if os.geteuid() != 0:
        ready = subprocess.run([str(SCRIPT), "is-ready"], capture_output=True).returncode == 0
        pytest.skip("OpenXR runtime tests need root (chroot/mount into the trixie root"
                    + ("" if ready else "; the root is not set up either: run 'sudo scripts/xr-runtime setup'") + ")")
    t0 = time.monotonic()
    r = subprocess.run([str(SCRIPT), "setup"], capture_output=True, text=True, timeout=1200)
    assert r.returncode == 0, f"xr-runtime setup failed:\n{r.stderr[-3000:]}"
    setup_s = time.monotonic() - t0
    r = subprocess.run([str(SCRIPT), "start"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, f"xr-runtime start failed:\n{r.stderr[-3000:]}"
    rt = XrRuntime(_root_dir())
    rt.setup_s = setup_s
    try:
        yield rt
    finally:
        subprocess.run([str(SCRIPT), "stop"], capture_output=True, timeout=60)
        rt.cleanup()


@pytest.fixture(scope="session")
def motorcycle(shared_data) -> Path:
    """A real RGB-D source: Middlebury 2014 Motorcycle (rectified colour + ground-truth disparity)."""
    return (shared_data / "stereo" / "middlebury2014-Motorcycle-Q").resolve()
