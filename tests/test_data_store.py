"""The run's examples on disk."""
from p2m.core.schemas import Example
from p2m.runfolder.data_store import DataStore


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


def test_rows_added_since_a_count_are_summarised_by_source_and_output(tmp_path):
    """Issue 36: each tool call's trace line says which rows it added."""
    from p2m.core.schemas import Example
    from p2m.runfolder.data_store import DataStore

    store = DataStore(tmp_path)
    store.add([Example(input="old", output="a", source={"kind": "user"})])
    before = len(store.all())
    assert store.added_since(before) is None
    store.add([Example(input=f"t{i}", output="ab"[i % 2], split="validation" if i == 2 else "train",
                       source={"kind": "generated"}) for i in range(3)])
    assert store.added_since(before) == {"rows": 3, "by_source": {"generated/train": 2, "generated/validation": 1},
                                         "by_output": {"a": 2, "b": 1}}
    store.add([Example(input="long", output="x" * 80, source={"kind": "generated"})])
    assert "by_output" not in store.added_since(before)  # free text: no counts by output


def test_dropped_rows_live_apart_from_the_data(tmp_path):
    from p2m.core.schemas import Example
    from p2m.runfolder.data_store import DataStore

    store = DataStore(tmp_path)
    store.add_dropped([Example(input="x", output="a", source={"kind": "generated", "drop_reason": "low_agreement"})])
    with open(tmp_path / "data" / "dropped.jsonl", "a") as f:
        f.write('{"input": "torn')  # a kill mid-append
    assert [e.source["drop_reason"] for e in store.dropped()] == ["low_agreement"] and store.all() == []
