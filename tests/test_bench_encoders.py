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
