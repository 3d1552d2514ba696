"""Honest scoring: gold test rows only, selection on validation, baselines beside the student,
and demonstration folds when the demonstrations are the only gold rows."""
import json
from pathlib import Path

import pytest

from p2m.runfolder.context import RunContext
from p2m.llm.scripted_llm import ScriptedLLM
from p2m.runfolder.trace import TraceWriter
from p2m.core.config import RunConfig
from p2m.core.schemas import Example, TaskSpec
from p2m.tools import families
from p2m.tools.scoring import assess
from p2m.tools.scoring import predictions as evaluate
from p2m.tools.generation.generate import generate_examples
from p2m.tools.specs.evaluate import evaluate as evaluate_tool
from p2m.tools.specs.generate_examples import generate_examples as generate_examples_tool
from p2m.tools.specs.train import train as train_tool

LABELS = ["negative", "positive"]
FILM_DEMOS = [("a wonderful, moving, brilliant film", "positive"), ("awful, boring, a total mess", "negative"),
              ("superb acting, I loved every minute", "positive"), ("dreadful plot, I hated it", "negative"),
              ("a delightful, charming triumph", "positive"), ("terrible, dull and lifeless", "negative")]


def film_task(**fields) -> TaskSpec:
    """A film-review sentiment task with the six FILM_DEMOS as its demonstrations."""
    return TaskSpec(instruction="Sentiment of a film review", labels=LABELS,
                    examples=[{"input": t, "output": o} for t, o in FILM_DEMOS], **fields)


def patch_predict(monkeypatch, fake) -> None:
    """Stand in for the students where the scoring code looks them up (assess, evaluate)."""
    for module in (assess, evaluate):
        monkeypatch.setattr(module, "predict_for", fake)


def context(tmp_path, task, llm=None, config=None):
    return RunContext(run_dir=tmp_path / "run", task=task, config=config or RunConfig(), llm=llm,
                      trace=TraceWriter(tmp_path / "t.jsonl"), catalog=[])


def test_generated_rows_never_reach_the_test_split():
    task = TaskSpec(instruction="Sentiment", labels=LABELS)
    llm = ScriptedLLM([{"purpose": "generate", "json": {"input": f"distinct review number {i}"}}
                       for i in range(10)])
    result = generate_examples(task, llm, 10, existing=[], concurrency=1, holdout_every=2,
                               dedup_threshold=1.01)
    splits = [e.split for e in result.kept]
    assert "test" not in splits and splits.count("validation") == len(splits) // 2


def fake_predict(table):
    """predict_for stand-in: each model folder's answers, by whether the row is a test row."""
    def predict(task, model_dir, texts):
        right_on_test, right_on_val = table[Path(model_dir).name]
        return [t.split("|")[1] if (right_on_test if t.startswith("test") else right_on_val)
                else ("negative" if t.split("|")[1] == "positive" else "positive") for t in texts]
    return predict


def student_dir(tmp_path, name):
    path = tmp_path / name
    path.mkdir()
    (path / "config.json").write_text("{}")
    (path / "marker").write_text(name)
    return path


def test_selection_reads_validation_never_test(tmp_path, monkeypatch):
    task = TaskSpec(instruction="Sentiment", labels=LABELS,
                    examples=[{"input": "demo|positive", "output": "positive"},
                              {"input": "demo2|negative", "output": "negative"}])
    ctx = context(tmp_path, task)
    ctx.store.add([Example(input=f"{split}{i}|{LABELS[i % 2]}", output=LABELS[i % 2], split=split,
                           source={"kind": "user_test"} if split == "test" else {"kind": "dataset", "name": "d"})
                   for split in ("validation", "test") for i in range(6)])
    a, b = student_dir(tmp_path, "A"), student_dir(tmp_path, "B")
    # A is right on the test rows and wrong on validation; B the other way round; the baseline
    # folder ("baseline") is wrong on validation.
    patch_predict(monkeypatch, fake_predict({"A": (True, False), "B": (False, True),
                                                               "baseline": (False, False)}))
    for path in (a, b):
        ctx.write_json("train.json", {"path": str(path), "n_rows": 2})
        evaluate_tool(ctx)
    metrics = ctx.read_json("metrics.json")
    assert [h["value"] for h in metrics["history"]] == [1.0, 0.0]  # test: A better
    assert metrics["published"]["path"] == str(b) and metrics["published"]["kind"] == "student"
    assert (ctx.path("model") / "marker").read_text() == "B"
    assert metrics["test"] == {"source": "user", "mode": "holdout", "n": 6}


def test_an_evaluation_rerun_after_a_kill_replaces_its_own_history_entry(tmp_path, monkeypatch):
    task = TaskSpec(instruction="Sentiment", labels=LABELS,
                    examples=[{"input": "demo|positive", "output": "positive"},
                              {"input": "demo2|negative", "output": "negative"}])
    ctx = context(tmp_path, task)
    ctx.store.add([Example(input=f"{split}{i}|{LABELS[i % 2]}", output=LABELS[i % 2], split=split,
                           source={"kind": "user_test"} if split == "test" else {"kind": "dataset", "name": "d"})
                   for split in ("validation", "test") for i in range(6)])
    a = student_dir(tmp_path, "A")
    patch_predict(monkeypatch, fake_predict({"A": (True, True), "baseline": (False, False)}))
    ctx.write_json("train.json", {"path": str(a), "n_rows": 2, "trained_at": 1.5})
    evaluate_tool(ctx)
    evaluate_tool(ctx)  # resumed after a kill between metrics.json and the checkpoint
    assert [h["iteration"] for h in ctx.read_json("metrics.json")["history"]] == [1]
    ctx.write_json("train.json", {"path": str(a), "n_rows": 2, "trained_at": 2.5})  # a new training
    evaluate_tool(ctx)
    assert [h["iteration"] for h in ctx.read_json("metrics.json")["history"]] == [1, 2]


def test_a_baseline_that_wins_on_validation_is_published_and_runs(tmp_path, monkeypatch):
    from p2m.graph.report import build_report
    from p2m.scoring import score_run

    task = TaskSpec(instruction="Topic of a sentence", labels=["cooking", "sports"],
                    examples=[{"input": "the striker scored twice", "output": "sports"},
                              {"input": "simmer the sauce with basil", "output": "cooking"},
                              {"input": "the goalkeeper saved a penalty", "output": "sports"},
                              {"input": "bake the bread for an hour", "output": "cooking"}])
    ctx = context(tmp_path, task)
    texts = [("the team won the match", "sports"), ("whisk the eggs with sugar", "cooking"),
             ("a late goal in extra time", "sports"), ("fry the onions in butter", "cooking")]
    ctx.store.add([Example(input=t, output=o, split=s, source={"kind": "user_test"})
                   for s, pairs in (("validation", texts[:2]), ("test", texts[2:])) for t, o in pairs])
    student = student_dir(tmp_path, "S")
    real = families.predict_for
    patch_predict(monkeypatch, lambda t, d, x: ["cooking"] * len(x) if Path(d).name == "S" else real(t, d, x))
    ctx.write_json("train.json", {"path": str(student), "n_rows": 4})
    result = evaluate_tool(ctx)
    assert result["published"] == "baseline" and result["baselines"]["demonstrations-only"] == 1.0
    report = build_report(ctx, {"stop_reason": "test"})
    assert report["published"] == "demonstrations-only baseline" and report["metric"]["value"] == 1.0
    assert "does NOT beat" in report["verdict"]
    assert report["baselines"]["demonstrations-only"]["n"] == 2
    monkeypatch.undo()
    ctx.run.save_task(task)
    data = tmp_path / "gold.jsonl"
    data.write_text("".join(json.dumps({"input": t, "output": o}) + "\n" for t, o in texts))
    assert score_run(ctx.run_dir, data)["metric"]["value"] == 1.0  # p2m eval runs the baseline


def test_demonstration_folds_score_each_fold_with_models_that_never_saw_it(tmp_path, tiny_model_dir,
                                                                          monkeypatch):
    demos = [{"input": f"{w} film, truly {w}", "output": o} for w, o in
             (("great", "positive"), ("awful", "negative"), ("lovely", "positive"),
              ("boring", "negative"), ("superb", "positive"), ("dreadful", "negative"))]
    task = TaskSpec(instruction="Sentiment of a film review", labels=LABELS, examples=demos)
    config = RunConfig()
    config.train.epochs = 1
    config.train.min_steps = 4
    config.data.concurrency = 1
    config.data.verify_votes = 0
    config.data.teacher_n = 100
    words = ["bright", "dull", "warm", "flat", "witty", "limp", "vivid", "stale", "tender", "tired",
             "sharp", "weak", "rich", "thin", "bold", "bland"]
    llm = ScriptedLLM([{"purpose": "generate", "json": {"input": f"a {w} story, {i} stars"}}
                       for i, w in enumerate(words)] +
                      [{"purpose": "teacher", "json": {"label": "positive"}} for _ in range(6)])
    ctx = context(tmp_path, task, llm, config)
    from p2m.runfolder.data_store import user_rows

    ctx.store.add(user_rows(ctx.task))
    generate_examples_tool(ctx, n=16)
    from p2m.tools.scoring.folds import demo_folds

    fold_of = dict(zip([d["input"] for d in demos], demo_folds(task, 2)))
    rows = ctx.store.all()
    assert not [r for r in rows if r.split == "test"]  # nothing generated is a test row
    for messages in llm.seen:
        prompt = messages[-1]["content"]
        shown = {fold_of[d["input"]] for d in demos if d["input"] in prompt}
        assert len(shown) <= 1  # each prompt shows one fold's demonstrations at most
    trained: dict[str, list[str]] = {}
    real_train = families.train_for

    def spy(task_, model_path, examples, out_dir, cfg, progress=True, val_rows=None, **kw):
        trained[Path(out_dir).name] = [e.input for e in examples + (val_rows or [])]
        return real_train(task_, model_path, examples, out_dir, cfg, progress, val_rows=val_rows, **kw)

    import p2m.tools.specs.train as train_spec

    monkeypatch.setattr(train_spec, "train_for", spy)
    ctx.write_json("model_choice.json", {"name": "tiny", "path": str(tiny_model_dir)})
    summary = train_tool(ctx)
    assert set(summary["folds"]) == {"0", "1"}
    by_input = {r.input: r for r in rows}
    for j in (0, 1):
        for text in trained[f"fold{j}"]:
            row = by_input[text]
            assert fold_of.get(text, row.source.get("fold")) != j
    result = evaluate_tool(ctx)
    assert result["test_source"] == "demonstrations (2-fold)" and result["n"] == 6
    assert result["metric"]["ci"][0] <= result["metric"]["value"] <= result["metric"]["ci"][1]
    assert result["baselines"]["teacher"] == 0.5  # scripted teacher answers "positive" to all 6
    metrics = ctx.read_json("metrics.json")
    assert metrics["baselines"]["demonstrations-only"]["n"] == 6
    assert metrics["same_rows"]["n"] == 6
    # The teacher for fold j was shown the other fold's demonstrations only.
    teacher_prompts = llm.seen[-6:]
    for messages in teacher_prompts:
        asked = messages[-1]["content"]
        shown = {fold_of[m["content"]] for m in messages[1:-1] if m["role"] == "user"}
        assert shown == {1 - fold_of[asked]}


def test_a_run_with_nothing_gold_to_score_on_is_refused_before_it_starts(tmp_path):
    from p2m.runner import RunError, create_run

    task = TaskSpec(instruction="Sentiment", labels=LABELS,
                    examples=[{"input": "fine", "output": "positive"}])
    with pytest.raises(RunError, match="nothing to score the model on"):
        create_run(task, RunConfig(), tmp_path / "run")
    assert not (tmp_path / "run").exists()
    gold = tmp_path / "gold.jsonl"
    gold.write_text('{"input": "awful", "output": "negative"}\n{"input": "meh", "output": "Neutral"}\n')
    with pytest.raises(ValueError, match="Neutral"):  # off-label gold rows: refused up front
        create_run(task, RunConfig(test_file=str(gold)), tmp_path / "run")


def evaluate_with_held_out(tmp_path, task, dirs, kind, n_rows):
    """Evaluate student S (fold models S0, S1) on the demonstration folds, with `n_rows` held-out
    validation rows of source `kind` ("KIND text i|label", labelled as the teacher would)."""
    ctx = context(tmp_path, task)
    ctx.store.add([Example(input=f"{kind} text {i}|{LABELS[i % 2]}", output=LABELS[i % 2], split="validation",
                           source={"kind": kind, "row": i}) for i in range(n_rows)])
    ctx.write_json("train.json", {"path": str(dirs["S"]), "n_rows": 6,
                                  "folds": {"0": str(dirs["S0"]), "1": str(dirs["S1"])}})
    return ctx, evaluate_tool(ctx)


def test_the_fold_estimate_publishes_the_baseline_when_it_is_ahead_whatever_generated_rows_say(
        tmp_path, monkeypatch):
    """Issue 32: a student at 0.633 on the demonstration folds (baseline 0.90) was published
    because it read 0.75 on 12 generated validation rows."""
    from p2m.graph.report import build_report

    demos, task = FILM_DEMOS, film_task()
    ctx = context(tmp_path, task)
    ctx.store.add([Example(input=f"val{i}|{LABELS[i % 2]}", output=LABELS[i % 2], split="validation",
                           source={"kind": "generated", "call": i}) for i in range(12)])
    dirs = {name: student_dir(tmp_path, name) for name in ("S", "S0", "S1")}

    def student(task_, model_dir, texts):  # right on the generated rows, wrong on every demonstration
        flip = {"positive": "negative", "negative": "positive"}
        return [t.split("|")[1] if t.startswith("val") else flip[dict(demos)[t]] for t in texts]

    patch_predict(monkeypatch, student)
    ctx.write_json("train.json", {"path": str(dirs["S"]), "n_rows": 6,
                                  "folds": {"0": str(dirs["S0"]), "1": str(dirs["S1"])}})
    result = evaluate_tool(ctx)
    assert result["test_source"] == "demonstrations (2-fold)" and result["metric"]["value"] == 0.0
    assert result["published"] == "baseline" and result["estimate"]["gold"]
    assert result["estimate"]["baseline"] > 0.0 and result["validation"]["value"] == 1.0
    report = build_report(ctx, {"stop_reason": "test"})
    assert report["published"] == "demonstrations-only baseline" and not report["target_met"]
    assert "demonstrations-only model is published (chosen on demonstrations (2-fold)" in report["verdict"]
    assert report["estimate"]["source"] == "demonstrations (2-fold)" and report["to_improve"]
    assert report["labelling"] is None  # no unlabelled texts were labelled
    ctx.write_json("unlabelled.json", {"labelled_up_to": 50, "labelled": 50, "labelling_s": 75.0})
    assert build_report(ctx, {"stop_reason": "test"})["labelling"] == {"rows": 50, "seconds": 75.0, "per_minute": 40.0}


def test_when_the_gold_folds_cannot_tell_them_apart_held_out_teacher_labelled_inputs_decide(
        tmp_path, monkeypatch):
    """Issue 32: on 8 AG News fold rows the student read 0.625 and the baseline 0.75 (one row
    apart), so the baseline was published, where on 60 held-out texts the teacher labelled the
    student agreed with it on 0.90 and the baseline on 0.62 (and on the test rows the student
    read 0.734 against 0.628). A large gold gap is never overruled."""
    from p2m.graph.report import build_report

    demos, task = FILM_DEMOS, film_task()
    dirs = {name: student_dir(tmp_path, name) for name in ("S", "S0", "S1")}
    flip = {"positive": "negative", "negative": "positive"}
    wrong_on = {demos[0][0]}  # the student misses one demonstration: a gap folds cannot resolve

    def student(task_, model_dir, texts):  # and agrees with the teacher on every held-out text
        return [t.split("|")[1] if "|" in t else flip[dict(demos)[t]] if t in wrong_on else dict(demos)[t]
                for t in texts]

    def baseline(spec, texts):  # right on every demonstration, wrong on the teacher's texts
        return [flip[t.split("|")[1]] if "|" in t else dict(demos)[t] for t in texts]

    patch_predict(monkeypatch, student)
    monkeypatch.setattr(assess, "predict_baseline", baseline)
    monkeypatch.setattr(assess, "confident", lambda model, texts: (["positive"] * len(texts), [0.5] * len(texts)))

    def run(kind, n_held):
        return evaluate_with_held_out(tmp_path / f"{kind}{n_held}", task, dirs, kind, n_held)

    ctx, result = run("unlabelled", 30)
    assert result["metric"]["value"] < result["baselines"]["demonstrations-only"]  # behind on the folds
    assert result["published"] == "student"
    report = build_report(ctx, {"stop_reason": "test"})
    assert "30 held-out inputs the teacher labelled (the 6 gold rows could not tell the two apart)" in report["verdict"]
    assert report["estimate"]["agreement"] == {"n": 30, "student": 1.0, "baseline": 0.0}
    low, high = report["estimate"]["difference"]["ci"]
    assert low < 0 < high or low == 0 or high == 0
    assert run("unlabelled", 5)[1]["published"] == "baseline"  # too few held-out texts to decide on
    assert run("unlabelled", 10)[1]["published"] == "student"  # 10: too few for step 2, enough for step 3
    wrong_on.update(t for t, _ in demos)  # a gap the gold rows can tell apart: gold decides
    assert run("unlabelled", 30)[1]["published"] == "baseline"


def test_when_the_gold_folds_cannot_tell_them_apart_held_out_rows_the_teacher_wrote_can(tmp_path, monkeypatch):
    """CoNaLa seed 1 (8273a7d): on 4 fold rows the fold students read 0.076 and the baseline 0.202
    (difference interval [-0.34, 0.03]), no real inputs were held out, and the point estimates
    published the demonstrations-only model (0.105 on gold test) over a student at 0.420. The
    held-out validation rows the teacher wrote now decide when their paired interval can, scoring
    the two models that would be published; too few of them, or an interval over 0, leave it to
    the point estimates, and gold rows that tell the two apart still win."""
    from p2m.graph.report import build_report

    demos, task = FILM_DEMOS, film_task()
    dirs = {name: student_dir(tmp_path, name) for name in ("S", "S0", "S1")}
    flip = {"positive": "negative", "negative": "positive"}
    wrong_on = {demos[0][0]}  # one demonstration missed: behind on the folds, by a gap they cannot resolve
    baseline_right = set()  # indices of the teacher's rows the baseline answers as the teacher did

    def student(task_, model_dir, texts):  # agrees with the teacher on every held-out row
        return [t.split("|")[1] if "|" in t else flip[dict(demos)[t]] if t in wrong_on else dict(demos)[t]
                for t in texts]

    def baseline(spec, texts):
        return [t.split("|")[1] if "|" in t and int(t.split()[2].split("|")[0]) in baseline_right
                else flip[t.split("|")[1]] if "|" in t else dict(demos)[t] for t in texts]

    patch_predict(monkeypatch, student)
    monkeypatch.setattr(assess, "predict_baseline", baseline)
    monkeypatch.setattr(assess, "confident", lambda model, texts: (["positive"] * len(texts), [0.5] * len(texts)))

    def run(name, n_rows):
        return evaluate_with_held_out(tmp_path / name, task, dirs, "generated", n_rows)

    ctx, result = run("nine", 9)
    assert result["metric"]["value"] < result["baselines"]["demonstrations-only"]  # behind on the folds
    assert result["published"] == "student"
    report = build_report(ctx, {"stop_reason": "test"})
    estimate = report["estimate"]
    assert estimate["teacher_rows"]["n"] == 9 and estimate["teacher_rows"]["student"] == 1.0
    assert estimate["teacher_rows"]["baseline"] == 0.0 and estimate["teacher_rows"]["ci"][0] > 0
    assert estimate["point_estimates"] == "baseline" and estimate["agreement"] is None
    assert "9 held-out validation rows the teacher wrote or labelled (the 6 gold rows could not tell the two " \
           "apart): it agrees with the teacher on 1.0 of them, the baseline on 0.0" in report["verdict"]
    ctx, result = run("seven", 7)  # too few rows the teacher wrote: the point estimates
    assert result["published"] == "baseline"
    assert build_report(ctx, {"stop_reason": "test"})["estimate"]["teacher_rows"] is None
    baseline_right.update(range(1, 12))  # the baseline agrees on 11 of 12: an interval over 0
    ctx, result = run("close", 12)
    assert result["published"] == "baseline"
    low, high = build_report(ctx, {"stop_reason": "test"})["estimate"]["teacher_rows"]["ci"]
    assert low <= 0 <= high
    baseline_right.clear()
    wrong_on.update(t for t, _ in demos)  # a gap the gold rows can tell apart: gold decides
    ctx, result = run("gold-gap", 30)
    assert result["published"] == "baseline"
    assert build_report(ctx, {"stop_reason": "test"})["estimate"]["teacher_rows"] is None


def test_when_the_gold_folds_tie_two_iterations_held_out_teacher_labelled_inputs_keep_the_better(
        tmp_path, monkeypatch):
    """Issue 32: on SST-2 the 4 gold fold rows tied every iteration, so the newer student (an
    mpnet head) was kept over the first iteration's fine-tuned mpnet, which agreed more with the
    teacher on the held-out texts (0.893-0.917 against 0.857-0.883). Held-out teacher-labelled
    real inputs break such a tie; generated rows never do; gold rows that tell the two apart win."""
    demos, task = FILM_DEMOS, film_task()
    names = ("S", "S0", "S1", "T", "T0", "T1")
    dirs = {name: student_dir(tmp_path, name) for name in names}
    flip = {"positive": "negative", "negative": "positive"}
    wrong_on_demos: set[str] = set()

    def student(task_, model_dir, texts):  # S agrees with the teacher on held-out texts, T never
        name = Path(model_dir).name[0]
        return [(t.split("|")[1] if name == "S" else flip[t.split("|")[1]]) if "|" in t
                else flip[dict(demos)[t]] if name in wrong_on_demos else dict(demos)[t] for t in texts]

    patch_predict(monkeypatch, student)
    monkeypatch.setattr(assess, "predict_baseline", lambda spec, texts: ["positive"] * len(texts))
    monkeypatch.setattr(assess, "confident", lambda model, texts: (["positive"] * len(texts), [0.5] * len(texts)))

    def run(kind):
        ctx = context(tmp_path / f"{kind}-{''.join(sorted(wrong_on_demos))}", task)
        ctx.store.add([Example(input=f"{kind} text {i}|{LABELS[i % 2]}", output=LABELS[i % 2], split="validation",
                               source={"kind": kind, "row": i}) for i in range(30)])
        for first in "ST":
            ctx.write_json("train.json", {"path": str(dirs[first]), "n_rows": 6, "trained_at": float(ord(first)),
                                          "folds": {"0": str(dirs[first + "0"]), "1": str(dirs[first + "1"])}})
            evaluate_tool(ctx)
        return ctx.read_json("selection.json")["best_student"]

    best = run("unlabelled")
    assert best["path"] == str(dirs["S"]) and best["iteration"] == 1
    assert best["kept_over"]["kind"] == "earlier" and best["kept_over"]["agreement"] == {
        "n": 30, "newer": 0.0, "earlier": 1.0}
    assert "30 held-out inputs the teacher labelled" in best["kept_over"]["decided_on"]
    assert run("generated")["path"] == str(dirs["T"])  # generated rows never decide: the newer
    wrong_on_demos.add("S")  # the gold folds tell them apart (S wrong on all 6): gold decides
    best = run("unlabelled")
    assert best["path"] == str(dirs["T"]) and best["kept_over"]["decided_on"] == "demonstrations (2-fold)"


def test_a_teacher_one_fold_row_behind_the_baseline_still_breaks_the_tie_one_clearly_behind_does_not(
        tmp_path, monkeypatch):
    """bench.unseen SST-2 seed 2 (1d04945): the teacher read 3 of 4 fold rows and the baseline 4,
    so the agreement step was skipped and the baseline (0.546 on 500 test rows) was published over
    a student at 0.786. One row is no evidence; only a paired interval below 0 closes the step."""
    from p2m.graph.report import build_report

    demos, task = FILM_DEMOS, film_task()
    dirs = {name: student_dir(tmp_path, name) for name in ("S", "S0", "S1")}
    flip = {"positive": "negative", "negative": "positive"}
    teacher_wrong: set[str] = set()

    def student(task_, model_dir, texts):  # one demonstration missed; agrees with the teacher
        return [t.split("|")[1] if "|" in t else flip[dict(demos)[t]] if t == demos[0][0] else dict(demos)[t]
                for t in texts]

    def teacher(llm, task_, texts, score=True):
        return [flip[dict(demos)[t]] if t in teacher_wrong else dict(demos)[t] for t in texts], 0.0

    patch_predict(monkeypatch, student)
    monkeypatch.setattr(assess, "predict_baseline",
                        lambda spec, texts: [flip[t.split("|")[1]] if "|" in t else dict(demos)[t] for t in texts])
    monkeypatch.setattr(assess, "teacher_predict", teacher)
    monkeypatch.setattr(assess, "confident", lambda model, texts: (["positive"] * len(texts), [0.5] * len(texts)))

    def run(name):
        ctx = context(tmp_path / name, task, llm=ScriptedLLM([]))
        ctx.store.add([Example(input=f"text {i}|{LABELS[i % 2]}", output=LABELS[i % 2], split="validation",
                               source={"kind": "unlabelled", "row": i}) for i in range(30)])
        ctx.write_json("train.json", {"path": str(dirs["S"]), "n_rows": 6,
                                      "folds": {"0": str(dirs["S0"]), "1": str(dirs["S1"])}})
        return ctx, evaluate_tool(ctx)

    teacher_wrong.add(demos[1][0])  # the teacher 5 of 6, the baseline 6 of 6
    ctx, result = run("one-behind")
    assert result["baselines"]["teacher"] < result["baselines"]["demonstrations-only"]
    assert result["published"] == "student"
    estimate = build_report(ctx, {"stop_reason": "test"})["estimate"]
    assert estimate["agreement"]["student"] == 1.0 and estimate["teacher_vs_baseline"] is None
    teacher_wrong.update(t for t, _ in demos)  # the teacher wrong on every fold row
    ctx, result = run("all-behind")
    assert result["published"] == "baseline"
    estimate = build_report(ctx, {"stop_reason": "test"})["estimate"]
    assert estimate["agreement"] is None and estimate["teacher_vs_baseline"]["ci"][1] < 0
    assert estimate["teacher_vs_baseline"]["n"] == 6


def test_with_too_few_rows_for_a_student_the_baseline_is_published_with_what_to_add(tmp_path, tiny_model_dir):
    """Issue 32: six demonstrations, no LLM, no catalog: the demonstrations-only model is
    published with its fold estimate, and the report says what to add."""
    from p2m import runner

    task = film_task(target={"metric": "accuracy", "value": 0.9})
    config = RunConfig(llm="none", model=str(tiny_model_dir))
    config.train.epochs = 1
    runner.create_run(task, config, tmp_path / "run")
    report = runner.execute(runner.open_context(tmp_path / "run", progress=False))
    assert report["published"] == "demonstrations-only baseline"
    assert report["estimate"]["source"] == "demonstrations (2-fold)" and report["estimate"]["gold"]
    assert report["metric"]["n"] == 6 and not report["target_met"] and "too few rows" in report["stop_reason"]
    hints = " ".join(report["to_improve"])
    assert "--llm local" in hints and "--catalog" in hints and "3 for the rarest label" in hints


def test_a_few_rows_all_right_do_not_make_a_certain_interval():
    """SST-2 seed 2 of bench.unseen (1d04945): the demonstrations-only model read 4 of 4 fold rows,
    the bootstrap interval collapsed to [1.0, 1.0], and the run stopped at "target met" (0.9)
    after one iteration. The Wilson interval of 4/4 starts near 0.51."""
    task = TaskSpec(instruction="Sentiment", labels=LABELS)
    rows = [Example(input=f"r{i}", output=LABELS[i % 2], source={"kind": "user"}) for i in range(4)]
    low, high = assess.bootstrap_ci(task, [r.output for r in rows], rows)
    assert high == 1.0 and 0.45 < low < 0.6
    assert assess.wilson_interval(0, 10)[0] == 0.0 and round(assess.wilson_interval(50, 100)[0], 3) == 0.404
    many = [Example(input=f"r{i}", output=LABELS[i % 2], source={"kind": "user"}) for i in range(400)]
    preds = [r.output if i % 5 else LABELS[1 - i % 2] for i, r in enumerate(many)]  # 80% right
    low, high = assess.bootstrap_ci(task, preds, many)
    assert 0.75 < low < 0.8 < high < 0.85  # with many rows the two intervals agree


def test_an_entity_task_whose_demonstrations_name_no_entity_is_told_to_add_some():
    """WNUT-17's demonstrations drawn with seed 1 all read none, and 43 of the 48 generated rows
    the run kept named none: the report says what to add."""
    from p2m.graph.report import unnamed_entity_types

    def task(*outputs):
        return TaskSpec(instruction="Find entities", task_type="ner", labels=["person", "location"],
                        examples=[{"input": f"row {i}", "output": o} for i, o in enumerate(outputs)])

    assert "none of yours does, so the teacher" in unnamed_entity_types(task("none", "none"))[0]
    assert unnamed_entity_types(task("none", "Person: Ada")) == ["demonstrations naming a location: none of yours does"]
    assert unnamed_entity_types(task("person: Ada", "location: Paris")) == []
    assert unnamed_entity_types(TaskSpec(instruction="x", labels=["a", "b"])) == []  # not an entity task
