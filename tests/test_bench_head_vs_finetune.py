"""bench.head_vs_finetune: each student trained on a run's rows and scored on gold rows of the
dataset's train split that the run never held."""
import json

from p2m import runner
from p2m.core.config import RunConfig
from p2m.core.schemas import Example, TaskSpec
from p2m.runfolder.data_store import DataStore

POS = ["a wonderful film", "great acting", "i loved it", "a delight", "funny and warm"]
NEG = ["a dull mess", "terrible acting", "i hated it", "a bore", "ugly and cold"]


def test_students_are_scored_on_gold_rows_the_run_never_held(tmp_path, capsys, tiny_model_dir):
    from bench import head_vs_finetune

    examples = [{"input": t, "output": "positive"} for t in POS] + \
        [{"input": t, "output": "negative"} for t in NEG]
    run = runner.create_run(TaskSpec(instruction="Sentiment of a review", labels=["negative", "positive"],
                                     examples=examples), RunConfig(llm="none"), tmp_path / "run")
    DataStore(run).add(Example(**e, source={"kind": "user"}) for e in examples)
    data = tmp_path / "data"
    data.mkdir()
    gold = [{"input": "i loved it", "output": "positive"}] + \
        [{"input": f"a lovely, charming film number {i}", "output": "positive"} for i in range(6)] + \
        [{"input": f"a boring, awful film number {i}", "output": "negative"} for i in range(6)]
    (data / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in gold))
    assert head_vs_finetune.main([str(run), str(data), "--n", "50",
                                  "--students", f"head:minilm,finetune:{tiny_model_dir}"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["student"].split(":")[0] for line in lines] == ["head", "finetune"]
    assert all(line["n_dev"] == 12 for line in lines)  # the run's own "i loved it" is left out
    assert lines[0]["dev_accuracy"] > 0.8  # MiniLM's head separates lovely from awful
    assert 0.0 <= lines[1]["dev_accuracy"] <= 1.0
