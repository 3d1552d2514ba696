"""p2m data (p2m/data_view.py): rows with provenance, filtered; dropped rows with their reason."""
import json

from p2m import runner
from p2m.cli import main
from p2m.core.config import RunConfig
from p2m.data_view import browse
from p2m.core.schemas import Example, TaskSpec
from p2m.runfolder.data_store import DataStore

TASK = TaskSpec(instruction="Classify sentiment", labels=["negative", "positive"],
                examples=[{"input": "great", "output": "positive"}, {"input": "awful", "output": "negative"}])


def make_run(tmp_path):
    runner.create_run(TASK, RunConfig(llm="none"), tmp_path / "run")
    store = DataStore(tmp_path / "run")
    store.add([Example(input="great", output="positive", source={"kind": "user", "row": 0}),
               Example(input="a moving film", output="positive", split="validation",
                       source={"kind": "generated", "sample": 3, "teacher_probs": {"positive": 0.9, "negative": 0.1}}),
               Example(input="dull", output="negative", source={"kind": "unlabelled", "row": 7,
                                                                "relabelled_by": "local:1.5b"})])
    store.add_dropped([Example(input="a fine film", output="negative",
                               source={"kind": "generated", "sample": 4, "drop_reason": "verifier_disagrees"})])
    return tmp_path / "run"


def test_rows_are_filtered_and_show_their_provenance(tmp_path):
    run = make_run(tmp_path)
    assert [r["input"] for r in browse(run)] == ["great", "a moving film", "dull"]
    generated = browse(run, source="generated")
    assert len(generated) == 1 and generated[0]["provenance"] == {"sample": 3, "teacher_probs": {"positive": 0.9,
                                                                                                 "negative": 0.1}}
    assert [r["input"] for r in browse(run, split="train", output="negative")] == ["dull"]
    assert browse(run, output="positive", limit=1)[0]["input"] == "great"
    dropped = browse(run, dropped=True)
    assert dropped[0]["provenance"]["drop_reason"] == "verifier_disagrees" and dropped[0]["input"] == "a fine film"


def test_the_command_line_lists_rows_as_json(tmp_path, capsys):
    run = make_run(tmp_path)
    assert main(["data", str(run), "--source", "unlabelled", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert rows == [{"n": 2, "split": "train", "kind": "unlabelled", "step": None, "input": "dull",
                     "output": "negative", "provenance": {"row": 7, "relabelled_by": "local:1.5b"}}]
    assert main(["data", str(tmp_path / "nowhere")]) == 2


def test_rows_say_which_step_added_them(tmp_path, capsys):
    """Issue 36 item 2: filter by the step (round) that added the rows, from the lengths each step kept."""
    from p2m.runfolder.rundir import RunDir

    runner.create_run(TASK, RunConfig(llm="none"), tmp_path / "run")
    run = RunDir(tmp_path / "run")
    run.store.add([Example(input="great", output="positive", source={"kind": "user", "row": 0})])
    run.save_step(0)
    run.store.add([Example(input=f"generated {i}", output="negative", source={"kind": "generated"}) for i in range(2)])
    run.save_step(1)
    run.save_step(2)  # a step that added nothing
    run.store.add([Example(input="late", output="positive", source={"kind": "generated"})])  # step 3 running
    assert [r["step"] for r in browse(run.path)] == [0, 1, 1, None]
    assert [r["input"] for r in browse(run.path, step=1)] == ["generated 0", "generated 1"]
    assert browse(run.path, step=2) == []
    assert main(["data", str(run.path), "--step", "0"]) == 0
    assert "step 0" in capsys.readouterr().out
