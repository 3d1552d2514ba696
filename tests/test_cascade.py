"""The cascade (issue 33): a threshold with a stated bound on disagreement with the teacher."""
import json
import random

import pytest

from p2m.tools.scoring.cascade import calibrate, route, upper_bound


def test_the_clopper_pearson_upper_bound():
    assert abs(upper_bound(0, 100) - (1 - 0.05 ** (1 / 100))) < 1e-6  # 0.0295: no error in 100
    assert abs(upper_bound(5, 100) - 0.102253) < 1e-5  # scipy.stats.beta.ppf(0.95, 6, 95)
    assert upper_bound(3, 3) == 1.0 and upper_bound(0, 0) == 1.0


def draw(n, rng):
    """Confidences in [0.5, 1]; below 0.9, the lower the confidence the likelier a disagreement
    with the teacher (up to 80%), and 0.2% of rows disagree whatever the confidence."""
    conf = [rng.uniform(0.5, 1.0) for _ in range(n)]
    return conf, [rng.random() > max(0.002, 2 * (0.9 - c)) for c in conf]


def test_the_bound_holds_on_fresh_rows_in_at_least_9_of_10_seeded_splits():
    """Fitted on 2,000 held-out rows, checked on 5,000 new ones: the share of rows answered alone
    that disagree stays within the 2% budget in at least 9 of 10 draws, and the student still
    answers a real share alone."""
    held, fitted_in = 0, 0
    for seed in range(10):
        rng = random.Random(seed)
        fitted = calibrate(*draw(2000, rng), budget=0.02)
        fitted_in += fitted["threshold"] is not None
        assert fitted["threshold"] is None or fitted["upper_bound"] <= 0.02
        conf, agrees = draw(5000, rng)
        alone = route(conf, fitted)
        wrong = sum(a and not ok for a, ok in zip(alone, agrees)) / max(1, sum(alone))
        held += wrong <= 0.02
        assert fitted["threshold"] is None or sum(alone) / len(alone) > 0.1
    assert held >= 9 and fitted_in >= 7  # measured: 10 of 10 held, 8 of 10 fitted


def test_no_threshold_when_nothing_meets_the_budget_or_too_few_rows_to_show_it():
    fitted = calibrate([0.9] * 500, [False] * 500)
    assert fitted["threshold"] is None and route([0.99], fitted) == [False]
    assert "at least 149" in calibrate([0.9] * 50, [True] * 50)["reason"]


@pytest.fixture(scope="module")
def finished(tmp_path_factory, sst2_catalog, tiny_model_dir):
    from p2m import runner
    from p2m.core.config import RunConfig
    from p2m.core.schemas import TaskSpec

    out = tmp_path_factory.mktemp("cascade") / "run"
    config = RunConfig(llm="none", catalog=[str(sst2_catalog)], model=str(tiny_model_dir))
    config.train.epochs = 1
    config.budget.max_iterations = 1
    runner.create_run(TaskSpec(instruction="Classify movie review sentiment.", labels=["negative", "positive"]),
                      config, out)
    runner.execute(runner.open_context(out, progress=False))
    return out


def test_every_published_classifier_carries_its_threshold_and_the_report_says_so(finished):
    report = json.loads((finished / "report.json").read_text())
    assert report["cascade"]["budget"] == 0.02 and "threshold" in report["cascade"]
    assert json.loads((finished / "model" / "cascade.json").read_text())["budget"] == 0.02


def test_predict_answers_with_confidence_and_hands_unsure_rows_to_the_teacher(finished, tmp_path, capsys):
    from p2m.llm.scripted_llm import ScriptedLLM
    from p2m.cli import main
    from p2m.predict import predict_texts
    from p2m.tools.scoring.cascade import save_threshold

    assert main(["predict", str(finished), "a wonderful, moving film"]) == 0
    row = json.loads(capsys.readouterr().out)
    assert row["output"] in ("negative", "positive") and 0.5 <= row["confidence"] <= 1
    assert row["answered_by"] == "student"  # no threshold fitted on gold-only data, and no teacher
    texts = tmp_path / "texts.jsonl"
    texts.write_text('{"input": "dull"}\nplain line\n')
    assert main(["predict", str(finished), "--file", str(texts), "--no-fallback"]) == 0
    assert [json.loads(line)["input"] for line in capsys.readouterr().out.splitlines()] == ["dull", "plain line"]
    save_threshold(finished / "model", {"threshold": 1.01, "budget": 0.02})  # the teacher answers all
    teacher = ScriptedLLM([{"purpose": "teacher", "probs": {"negative": 0.9, "positive": 0.1}}])
    rows = predict_texts(finished, ["dull"], teacher=teacher)
    assert rows[0]["answered_by"] == "teacher" and rows[0]["output"] == "negative"
    assert predict_texts(finished, ["dull"], fallback=False)[0]["answered_by"] == "student"


def test_serve_answers_on_loopback_and_asks_for_a_key_elsewhere(finished, monkeypatch):
    import threading

    import httpx

    from p2m.serve import make_server

    server = make_server(finished, port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        rows = httpx.post(url + "/v1/predict", json={"texts": ["a wonderful film", "dull"]}).json()["rows"]
        assert [r["output"] in ("negative", "positive") for r in rows] == [True, True]
        assert httpx.get(url + "/health").json()["ok"]
        assert httpx.get(url + "/health", headers={"Host": "evil.example.com"}).status_code == 403
        assert httpx.post(url + "/v1/predict", json={"texts": []}).status_code == 400
    finally:
        server.shutdown()
        server.server_close()
    monkeypatch.delenv("P2M_SERVER_API_KEY", raising=False)
    with pytest.raises(ValueError, match="API key"):
        make_server(finished, host="0.0.0.0", port=0)
    keyed = make_server(finished, port=0, api_key="k-123456789")
    threading.Thread(target=keyed.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{keyed.server_address[1]}"
    try:
        assert httpx.get(url + "/health").status_code == 401
        assert httpx.get(url + "/health", headers={"Authorization": "Bearer k-123456789"}).status_code == 200
    finally:
        keyed.shutdown()
        keyed.server_close()


def test_the_throughput_bench_times_all_three_on_the_same_texts(finished):
    from bench.cascade_throughput import measure
    from p2m.llm.scripted_llm import ScriptedLLM
    from p2m.tools.scoring.cascade import save_threshold

    save_threshold(finished / "model", {"threshold": 1.01, "budget": 0.02})  # the teacher answers all
    teacher = ScriptedLLM([{"purpose": "teacher", "probs": {"negative": 0.5, "positive": 0.5}}] * 6)
    line = measure(finished, ["fine", "dull", "great"], 3, teacher)
    assert line["n"] == 3 and line["sent_to_teacher"] == 1.0
    assert line["student_rows_per_s"] > 0 and line["teacher_rows_per_s"] > 0 and line["cascade_rows_per_s"] > 0


def test_the_cascade_answers_with_the_teacher_below_the_threshold():
    from p2m.tools.scoring.cascade import cascade_answers

    assert cascade_answers(["a", "b", "a"], ["b", "b", "b"], [True, False, False]) == (["a", "b", "b"], 0.6667)
    assert cascade_answers([], [], []) == ([], None)
