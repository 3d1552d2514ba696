import pytest

from p2m.llm.scripted_llm import ScriptedLLM
from p2m.core.schemas import TaskSpecError
from p2m.tools.data.task import MAX_PROMPT_CHARS, load_task_file, parse_task, read_prompt


def test_yaml_task_file(tmp_path):
    f = tmp_path / "t.yaml"
    f.write_text("instruction: Classify reviews\nlabels: [neg, pos]\n"
                 "examples:\n  - {input: great, output: pos}\ntarget: {metric: accuracy, value: 0.85}\n")
    spec = load_task_file(f)
    assert spec.labels == ["neg", "pos"] and spec.target.value == 0.85


@pytest.mark.parametrize("content, message", [
    (b"labels: [a, b]\n", "'instruction' is missing"),
    (b"instruction: ''\n", "instruction is empty"),
    (b"instruction: x\ntask_type: poem\n", "unknown task type"),
    (b"instruction: x\nlabels: [a, b]\nexamples: [{input: i, output: c}]\n", "not in labels"),
    (b"instruction: x\ncolour: red\n", "unknown keys"),
    (b"\xff\xfe\x00bad", "not UTF-8"),
    (b"instruction: [unclosed\n", "not valid YAML"),
    (b"- just\n- a list\n", "expected a mapping"),
])
def test_bad_task_files(tmp_path, content, message):
    f = tmp_path / "t.yaml"
    f.write_bytes(content)
    with pytest.raises(TaskSpecError, match=message):
        load_task_file(f)


def test_missing_file(tmp_path):
    with pytest.raises(TaskSpecError, match="not found"):
        load_task_file(tmp_path / "nope.yaml")


def test_prompt_limits(tmp_path):
    with pytest.raises(TaskSpecError, match="empty"):
        read_prompt("   ")
    with pytest.raises(TaskSpecError, match="limit"):
        read_prompt("x" * (MAX_PROMPT_CHARS + 1))
    f = tmp_path / "p.md"
    f.write_text("Classify spam")
    assert read_prompt(str(f)) == "Classify spam"


def test_parse_task_with_scripted_llm():
    llm = ScriptedLLM([{"purpose": "parse_task", "json": {
        "instruction": "Classify reviews", "task_type": "classification", "labels": ["neg", "pos"],
        "examples": [{"input": "great", "output": "pos"}], "target": None}}])
    spec = parse_task("Classify movie reviews. Example: great -> pos", llm)
    assert spec.labels == ["neg", "pos"] and spec.examples[0].output == "pos"


def test_parse_task_invalid_json_is_a_clear_error():
    llm = ScriptedLLM([{"purpose": "parse_task", "content": "{not json"}])
    with pytest.raises(TaskSpecError, match="could not read"):
        parse_task("Classify things", llm)


def test_free_text_needs_llm():
    with pytest.raises(TaskSpecError, match="needs an LLM"):
        parse_task("Classify things", None)


def test_unlabelled_texts_from_a_file_or_the_task_file(tmp_path):
    """Issue 32 item 2: `--unlabelled FILE` (JSONL or one text a line) and `unlabelled:`."""
    from p2m.tools.data.task import read_unlabelled

    (tmp_path / "inbox.txt").write_text("my card was charged twice\n\nthe app crashes on start\n")
    assert read_unlabelled(tmp_path / "inbox.txt") == ["my card was charged twice", "the app crashes on start"]
    (tmp_path / "inbox.jsonl").write_text('{"input": "a"}\n{"text": "b"}\n')
    assert read_unlabelled(tmp_path / "inbox.jsonl") == ["a", "b"]
    (tmp_path / "bad.jsonl").write_text('{"input": "a"}\n{"body": "b"}\n')
    with pytest.raises(TaskSpecError, match="bad.jsonl:2"):
        read_unlabelled(tmp_path / "bad.jsonl")
    (tmp_path / "t.yaml").write_text("instruction: Route tickets\nlabels: [billing, bug]\n"
                                      "unlabelled: [my card was charged twice, '  ']\n")
    assert load_task_file(tmp_path / "t.yaml").unlabelled == ["my card was charged twice"]
