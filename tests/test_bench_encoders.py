"""bench.encoders: development rows drawn apart from the training rows, one line per student."""
import json

from bench.encoders import draw, main


def test_training_and_development_rows_share_no_input_and_follow_the_seed():
    rows = [{"input": f"Text {i}", "output": "ab"[i % 2]} for i in range(100)] + [{"input": "text 3", "output": "b"}]
    train, dev = draw(rows, 20, 50, seed=1)
    assert len(train) == 20 and len(dev) == 50
    assert not {r["input"].lower() for r in train} & {r["input"].lower() for r in dev}
    assert (train, dev) == draw(rows, 20, 50, seed=1) and train != draw(rows, 20, 50, seed=2)[0]


def test_a_head_student_is_measured_on_development_rows(tmp_path):
    shared = tmp_path / "shared" / "datasets" / "sst2"
    shared.mkdir(parents=True)
    words = {"positive": ["great", "lovely", "superb", "wonderful"], "negative": ["awful", "dull", "boring", "terrible"]}
    rows = [{"input": f"a {w} film, take {i}", "output": label} for label, ws in words.items()
            for w in ws for i in range(8)]
    (shared / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    results = tmp_path / "out.jsonl"
    assert main(["--shared", str(tmp_path / "shared"), "--tasks", "sst2", "--rows", "24", "--dev", "20",
                 "--students", "head:minilm", "--results", str(results)]) == 0
    line = json.loads(results.read_text())
    assert line["student"] == "head:minilm" and line["n_dev"] == 20 and line["train_s"] > 0
    assert line["dev_accuracy"] >= 0.8  # the words separate the labels


def test_students_learn_from_a_runs_rows_and_are_scored_on_rows_it_never_held(tmp_path):
    """Issue 32: a run's teacher-labelled rows train each student (validated on the run's own
    validation split); the development rows exclude every input the run held."""
    from p2m import runner
    from p2m.core.config import RunConfig
    from p2m.core.schemas import Example, TaskSpec
    from p2m.runfolder.data_store import DataStore

    words = {"positive": ["great", "lovely", "superb", "wonderful"], "negative": ["awful", "dull", "boring", "terrible"]}
    rows = [{"input": f"a {w} film, take {i}", "output": label} for label, ws in words.items()
            for w in ws for i in range(8)]
    dataset = tmp_path / "sst2"
    dataset.mkdir()
    (dataset / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    task = TaskSpec(instruction="Sentiment of a film review.", task_type="classification",
                    labels=["negative", "positive"], examples=[rows[0], rows[-1]])
    run = runner.create_run(task, RunConfig(llm="none"), tmp_path / "run")
    held = rows[1:30:2] + rows[33:60:2]
    DataStore(run).add([Example(input=r["input"], output=r["output"], split="train" if i % 4 else "validation",
                                source={"kind": "unlabelled", "row": i}) for i, r in enumerate(held)])
    cache = tmp_path / "cache.json"
    results = tmp_path / "out.jsonl"
    from bench.encoders import run_rows

    _, train, val, dev = run_rows(run, dataset, 20)
    assert len(dev) == 20 and not {r["input"] for r in dev} & {r["input"] for r in held + [rows[0], rows[-1]]}
    cache.write_text(json.dumps({"texts": [r["input"] for r in dev], "teacher": [r["output"] for r in dev]}))
    assert main(["--run", str(run), str(dataset), "--dev", "20", "--students", "head:minilm",
                 "--teacher-cache", str(cache), "--results", str(results)]) == 0
    line = json.loads(results.read_text())
    assert line["run"] == "run" and line["n_train"] == len(train) and line["n_val"] == len(val)
    assert line["teacher_dev_accuracy"] == 1.0 and line["dev_agreement_with_teacher"] == line["dev_accuracy"] >= 0.8
