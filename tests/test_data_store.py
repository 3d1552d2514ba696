"""The run's examples on disk."""
from p2m.schemas import Example
from p2m.tools.data_store import DataStore


def test_rows_are_stored_whole_deduplicated_and_without_secrets(tmp_path, monkeypatch):
    monkeypatch.setenv("MY_API_KEY", "pasted-secret-98765")
    store = DataStore(tmp_path)
    rows = [Example(input="my key is pasted-secret-98765", output="a", source={"kind": "user"}),
            Example(input="Same  row", output="a", source={"kind": "user"}),
            Example(input="same row", output="b", source={"kind": "user"})]
    kept = store.add(rows)
    assert [e.input for e in kept] == ["my key is [redacted]", "Same  row"]
    assert b"pasted-secret-98765" not in store.path.read_bytes()
    (store.path).open("ab").write(b'{"input": "torn')  # a kill mid-row
    assert len(DataStore(tmp_path).all()) == 2
