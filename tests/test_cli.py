"""The command line, driven as a user would (subprocess for the real entry point)."""
import json
import subprocess
import sys

import pytest

from p2m.cli import main


def run_cli(*args, check=True):
    proc = subprocess.run([sys.executable, "-m", "p2m.cli", *map(str, args)], capture_output=True,
                          text=True, timeout=600)
    if check and proc.returncode != 0:
        raise AssertionError(proc.stderr[-2000:])
    return proc


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory, sst2_catalog, tiny_model_dir):
    out = tmp_path_factory.mktemp("cli") / "run"
    task = out.parent / "task.yaml"
    task.write_text("instruction: Classify movie review sentiment.\nlabels: [negative, positive]\n"
                    "target: {metric: accuracy, value: 0.99}\n")
    proc = run_cli("run", "--task-file", task, "--catalog", sst2_catalog, "--llm", "none", "--out", out,
                   "--model", tiny_model_dir, "--epochs", "1", "--max-iterations", "1", "--quiet")
    return out, json.loads(proc.stdout)


def test_run_prints_the_report(finished_run):
    out, report = finished_run
    assert report == json.loads((out / "report.json").read_text())
    assert report["n_retrieved"] == 240 and report["llm_calls"] == 0


def test_eval_scores_any_jsonl(finished_run, shared, tmp_path):
    out, _ = finished_run
    data = tmp_path / "d.jsonl"
    data.write_text("\n".join((shared / "datasets/sst2/test.jsonl").read_text().splitlines()[:30]))
    result = json.loads(run_cli("eval", out, "--data", data).stdout)
    assert result["metric"]["name"] == "accuracy" and result["n"] == 30 and "macro_f1" in result


def test_trace_timeline_and_json(finished_run):
    out, _ = finished_run
    text = run_cli("trace", out).stdout
    for word in ("search_datasets", "load_dataset", "train", "evaluate", "stop"):
        assert word in text
    events = [json.loads(l) for l in run_cli("trace", out, "--json").stdout.splitlines()]
    assert events[0]["kind"] == "start" and events[-1]["kind"] == "stop"


def copy_run(finished_run, tmp_path):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(finished_run[0], run)
    return run


def test_trace_names_lines_that_are_not_events(finished_run, tmp_path):
    """Issue 35: a trace line `[1,2]` or bytes that are not UTF-8 stopped `p2m trace` with a traceback."""
    run = copy_run(finished_run, tmp_path)
    with open(run / "trace.jsonl", "ab") as f:
        f.write(b'[1, 2]\n\xff\xfe not UTF-8\n{"time": "x", "node": 1, "kind": []}\n')
    events = len((run / "trace.jsonl").read_bytes().splitlines()) - 3
    shown = run_cli("trace", run).stdout
    assert "stop" in shown and "UNREADABLE" in shown  # the table's last row names the lines
    proc = run_cli("trace", run, "--json")
    assert len([json.loads(line) for line in proc.stdout.splitlines()]) == events
    assert "3 line(s)" in proc.stderr and "Traceback" not in proc.stderr


def test_a_corrupt_report_is_named(finished_run, tmp_path):
    run = copy_run(finished_run, tmp_path)
    (run / "report.json").write_text("[1, 2")
    proc = run_cli("trace", run, check=False)
    assert proc.returncode == 2 and "report.json" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("kind", ["pickle", "json"])
def test_a_checkpoint_of_a_type_p2m_never_writes_is_refused(finished_run, tmp_path, kind):
    """Issue 35: checkpoint rows of type pickle or json ended `p2m resume` in a traceback."""
    import sqlite3

    run = copy_run(finished_run, tmp_path)
    with sqlite3.connect(run / "checkpoints.sqlite") as db:
        db.execute("UPDATE checkpoints SET type = ?", (kind,))
    proc = run_cli("resume", run, check=False)
    assert proc.returncode == 2 and "never writes" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("argv, message", [
    (["run", "--task-file", "/nonexistent.yaml", "--llm", "none"], "task file not found"),
    (["run", "Classify things", "--llm", "none"], "needs an LLM"),
    (["run", "   ", "--llm", "none"], "prompt is empty"),
    (["run", "x", "--llm", "banana"], "unknown LLM spec"),
    (["eval", "/nonexistent-run", "--data", "x.jsonl"], "not a p2m run"),
])
def test_errors_are_clear_and_exit_2(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_eval_rejects_foreign_labels(finished_run, tmp_path, capsys):
    out, _ = finished_run
    data = tmp_path / "d.jsonl"
    data.write_text('{"input": "x", "output": "Sports"}\n')
    assert main(["eval", str(out), "--data", str(data)]) == 2
    assert "not in the task's labels" in capsys.readouterr().err


def test_doctor_none():
    assert main(["doctor", "--llm", "none", "--json"]) == 0


def test_export_onnx_matches_pytorch(finished_run, tmp_path):
    out, _ = finished_run
    target = tmp_path / "m.onnx"
    result = json.loads(run_cli("export", out, "--format", "onnx", "--out", target).stdout)
    assert target.is_file() and result["max_abs_diff"] < 1e-3
    assert not list(tmp_path.glob("*.partial"))
    # issue 33: the export keeps the cascade's threshold, in cascade.json and in its card
    assert result["cascade"]["budget"] == 0.02 and (tmp_path / "cascade.json").is_file()
    assert "## Cascade" in (tmp_path / "README.md").read_text()


@pytest.mark.parametrize("flag, value, default, bad, setting", [
    ("--search-embedder", "mpnet", "minilm", "bert", lambda cfg: cfg.data.search_embedder),
    ("--classifier", "finetune", "auto", "svm", lambda cfg: cfg.train.classifier),
], ids=["search-embedder", "classifier"])
def test_setting_flags_reach_the_run_config(flag, value, default, bad, setting):
    from p2m.cli import _config, build_parser

    args = build_parser().parse_args(["run", "x", "--llm", "none", flag, value])
    assert setting(_config(args)) == value
    assert setting(_config(build_parser().parse_args(["run", "x", "--llm", "none"]))) == default
    with pytest.raises(SystemExit):
        build_parser().parse_args(["run", "x", flag, bad])
