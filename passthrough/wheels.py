"""Pinned wheels from the package registry: the only way this project obtains model weights and demo
data. A wheel is downloaded once with ``pip download --no-deps`` into the cache, checked against its
pinned sha256, and kept so later builds work offline."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Optional, Sequence

from .errors import InputError


class ModelBuildError(InputError, RuntimeError):
    """A model or data build step failed (download, hash mismatch, corrupt wheel). The CLI prints it as one
    line ``error: <path>: <message>``; it is also a ``RuntimeError`` for library callers."""


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def fetch_wheel(requirement: str, wheel_dir: Path, sha256: Optional[str] = None,
                pip_args: Sequence[str] = (), download: bool = True) -> Path:
    """Return the cached wheel for ``requirement`` (``name==version``), downloading it if needed.

    Raises :class:`ModelBuildError` (one clear line) if the download fails or the wheel's hash does not
    match the pin (the bad file is removed). ``pip_args`` go to ``pip download`` (e.g. a target platform).
    ``download=False`` (the run-time commands: nothing is downloaded at run time) raises it instead of
    downloading a wheel that is not in ``wheel_dir``; only ``passthrough build-models`` downloads."""
    name, _, version = requirement.partition("==")
    wheel_dir = Path(wheel_dir)
    pattern = f"{name.replace('-', '_')}-{version}-*.whl"
    cached = sorted(wheel_dir.glob(pattern)) if wheel_dir.is_dir() else []
    if not cached and not download:
        cache = wheel_dir.parent
        raise ModelBuildError(cache, f"{requirement} is not in this model cache and nothing is downloaded at run "
                                     f"time: run `passthrough build-models --cache-dir {cache}` first")
    if not cached:
        wheel_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=wheel_dir) as tmp:
            cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", *pip_args, requirement, "-d", tmp]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            got = sorted(Path(tmp).glob(pattern))
            if proc.returncode != 0 or not got:
                lines = (proc.stderr or proc.stdout).strip().splitlines()
                raise ModelBuildError(wheel_dir, f"could not download {requirement} from the package index: "
                                                 f"{lines[-1] if lines else f'exit status {proc.returncode}'}")
            dst = wheel_dir / got[0].name
            got[0].replace(dst)
            cached = [dst]
    wheel = cached[0]
    if sha256 is not None:
        digest = sha256_file(wheel)
        if digest != sha256:
            wheel.unlink()
            raise ModelBuildError(wheel, f"sha256 {digest} does not match the pinned {sha256} (removed)")
    return wheel
