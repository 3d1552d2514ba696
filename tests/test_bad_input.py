"""Bad input, table-driven: each row gets a clear error naming the problem and writes nothing."""
from __future__ import annotations

import errno
import json
from pathlib import Path

import pytest

from p2m.cli import main
from p2m.core.schemas import Example, TaskSpec
from p2m.runfolder.data_store import DataStore
from p2m.tools.retrieval.catalog import CatalogEntry, DatasetError
from p2m.tools.retrieval.datasets import load_examples

GOOD_TASK = "instruction: Classify sentiment.\nlabels: [negative, positive]\n"


def write(tmp: Path, name: str, data: str | bytes) -> Path:
    path = tmp / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return path


# (case id, files to write {name: content}, CLI args after `run`, words the error must contain)
CLI_CASES = [
    ("empty prompt", {}, ["   ", "--llm", "none"], ["prompt is empty"]),
    ("100k-char prompt", {}, ["x" * 100_000, "--llm", "none"], ["100,000 characters", "limit"]),
    ("non-UTF-8 task file", {"t.yaml": b"instruction: caf\xe9\n"}, ["--task-file", "t.yaml"],
     ["not UTF-8"]),
    ("demos contradict labels",
     {"t.yaml": GOOD_TASK + "examples: [{input: great, output: happy}]\n"},
     ["--task-file", "t.yaml"], ["happy", "labels"]),
    ("unknown task key", {"t.yaml": GOOD_TASK + "lables: [a]\n"}, ["--task-file", "t.yaml"],
     ["unknown keys", "lables"]),
    ("unknown model name", {"t.yaml": GOOD_TASK}, ["--task-file", "t.yaml", "--model", "no-such-model"],
     ["no-such-model", "not on disk"]),
    ("model unfit for the family", {"t.yaml": GOOD_TASK, "gpt/config.json": '{"model_type": "gpt2"}'},
     ["--task-file", "t.yaml", "--model", "gpt"], ["gpt2", "does not fit"]),
    ("missing catalog", {"t.yaml": GOOD_TASK}, ["--task-file", "t.yaml", "--catalog", "nowhere"],
     ["catalog not found", "nowhere"]),
    ("run name escaping", {"t.yaml": GOOD_TASK}, ["--task-file", "t.yaml", "--out", "../escape"],
     ["must not contain '..'"]),
    ("missing unlabelled file", {"t.yaml": GOOD_TASK}, ["--task-file", "t.yaml", "--unlabelled", "inbox.txt"],
     ["unlabelled file not found", "inbox.txt"]),
    # issue 35: each of these was a traceback
    ("task keys of mixed types", {"t.yaml": GOOD_TASK + "1: x\nfoo: y\n"}, ["--task-file", "t.yaml"],
     ["unknown keys", "1", "'foo'"]),
    ("task nested 20,000 deep", {"t.yaml": GOOD_TASK + "examples: " + "[" * 20_000 + "]" * 20_000 + "\n"},
     ["--task-file", "t.yaml"], ["nested too deeply"]),
    ("test file nested 100,000 deep", {"t.yaml": GOOD_TASK, "g.jsonl": "[" * 100_000 + "]" * 100_000 + "\n"},
     ["--task-file", "t.yaml", "--test", "g.jsonl"], ["g.jsonl:1", "nested too deeply"]),
    ("test rows of null, mapping and NaN inputs",
     {"t.yaml": GOOD_TASK, "g.jsonl": '{"input": null, "output": "positive"}\n'
                                      '{"input": {"a": 1}, "output": "negative"}\n'
                                      '{"input": NaN, "output": "negative"}\n'},
     ["--task-file", "t.yaml", "--test", "g.jsonl"],
     ["1 (input: NoneType)", "2 (input: dict)", "3 (input: float)", "non-empty text"]),
    ("test row of a null output", {"t.yaml": GOOD_TASK, "g.jsonl": '{"input": "fine", "output": null}\n'},
     ["--task-file", "t.yaml", "--test", "g.jsonl"], ["1 (output: NoneType)"]),
]


@pytest.mark.parametrize("case, files, args, words", CLI_CASES, ids=[c[0] for c in CLI_CASES])
def test_cli_rejects_bad_input_and_writes_nothing(case, files, args, words, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    for name, content in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        write(tmp_path, name, content)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    out = [] if "--out" in args else ["--out", "runs/r"]
    assert main(["run", *args, *out, "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "error" in err and all(w in err for w in words), err
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def catalog_entry(tmp_path: Path, train: str, test: str = "") -> CatalogEntry:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "train.jsonl").write_text(train)
    if test:
        (tmp_path / "d" / "test.jsonl").write_text(test)
    return CatalogEntry("d", "a dataset", "classification", ["negative", "positive"], tmp_path / "d")


TASK = TaskSpec(instruction="Classify sentiment", labels=["negative", "positive"])


@pytest.mark.parametrize("train, words", [
    ('{"text": "good", "label": 1}\n', ["label ids", "names no labels"]),
    ('{"a": "good", "b": "x"}\n', ["cannot tell input and output apart", "['a', 'b']"]),
    ("", ["train split is empty"]),
    ('{"input": "", "output": ""}\n', ["0% of rows have both a non-empty input"]),
    ('{"input": "fine", "output": "meh"}\n', ["'meh'", "not in the task's labels"]),
])
def test_unusable_dataset_is_rejected_with_its_reason(tmp_path, train, words):
    with pytest.raises(DatasetError) as info:
        load_examples(catalog_entry(tmp_path, train), TASK, 100, 100)
    assert all(w in str(info.value) for w in words), str(info.value)


def test_disk_full_while_appending_examples_keeps_whole_rows(tmp_path, monkeypatch):
    store = DataStore(tmp_path)
    store.add([Example(input="kept", output="positive", source={"kind": "user"})])
    before = store.path.read_bytes()
    real_fsync = __import__("os").fsync

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("p2m.core.files.os.fsync", full)
    with pytest.raises(OSError, match="No space"):
        store.add([Example(input="lost", output="negative", source={"kind": "user"})])
    monkeypatch.setattr("p2m.core.files.os.fsync", real_fsync)
    assert store.path.read_bytes() == before


def test_disk_full_while_writing_json_leaves_the_old_file(tmp_path, monkeypatch):
    from p2m.runfolder.context import RunContext
    from p2m.core.config import RunConfig

    ctx = RunContext(run_dir=tmp_path, task=TASK, config=RunConfig(), llm=None, trace=None)
    ctx.write_json("state.json", {"v": 1})

    def full(self, *a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "replace", full)
    with pytest.raises(OSError):
        ctx.write_json("state.json", {"v": 2})
    monkeypatch.undo()
    assert json.loads((tmp_path / "state.json").read_text()) == {"v": 1}
    assert not list(tmp_path.glob("*.tmp"))


def test_disk_full_while_saving_the_model_leaves_no_half_model(tmp_path):
    from p2m.tools.training.finetune import TrainingError, save_atomically

    class FullTrainer:
        def save_model(self, path):
            Path(path).mkdir(parents=True)
            (Path(path) / "model.safetensors").write_bytes(b"half")
            raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(TrainingError, match="could not save the model"):
        save_atomically(FullTrainer(), None, tmp_path / "model")
    assert list(tmp_path.iterdir()) == []


def test_out_of_memory_halves_the_batch_size(tiny_model_dir, tmp_path, monkeypatch):
    """A CPU allocator failure at batch 16 is retried by accelerate at 8 (auto_find_batch_size)."""
    import torch
    from transformers import BertForSequenceClassification

    from p2m.core.config import TrainConfig
    from p2m.tools.families.classification.model import train_classifier

    real_forward = BertForSequenceClassification.forward

    def forward(self, input_ids=None, **kw):
        if input_ids is not None and input_ids.shape[0] > 8 and torch.is_grad_enabled():
            raise RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 1 GB")
        return real_forward(self, input_ids=input_ids, **kw)

    monkeypatch.setattr(BertForSequenceClassification, "forward", forward)
    rows = [Example(input=f"{w} film number {i}", output=lab, source={"kind": "user"})
            for i in range(24) for w, lab in (("great", "positive"), ("awful", "negative"))]
    cfg = TrainConfig(epochs=1, batch_size=16, min_steps=1, val_fraction=0.0)
    result = train_classifier(str(tiny_model_dir), rows, ["negative", "positive"], tmp_path, cfg,
                              progress=False)
    assert result.batch_size <= 8 and Path(result.path, "config.json").is_file()
