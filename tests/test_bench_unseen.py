"""bench.unseen: the demonstrations it draws and the settings its flags pass to the run."""
import pytest

from bench.unseen import demonstrations, main, run_config


def test_demonstrations_are_drawn_per_label_with_the_seed():
    rows = [{"input": f"{label} {i}", "output": label} for label in "ab" for i in range(10)]
    demos = demonstrations(rows, 2, seed=0)
    assert [d["output"] for d in demos] == ["a", "a", "b", "b"]
    assert demos == demonstrations(rows, 2, seed=0) and demos != demonstrations(rows, 2, seed=1)


def test_flags_reach_the_run_config():
    config = run_config("local", [], model="all-mpnet-base-v2", classifier="finetune")
    assert config.model == "all-mpnet-base-v2" and config.train.classifier == "finetune"
    assert run_config("none", ["cat"]).model is None and run_config("none", []).train.classifier == "auto"
    assert run_config("none", [], finetune_rival=True).train.finetune_rival
    assert not run_config("none", []).train.finetune_rival  # off by default, as in TrainConfig


def test_unknown_classifier_is_refused(capsys):
    with pytest.raises(SystemExit):
        main(["--classifier", "svm"])
    assert "invalid choice" in capsys.readouterr().err


def test_test_rows_are_the_same_draw_for_every_seed_less_the_demonstrations():
    """Issue 32: a demonstration that is also a test row is dropped from the test and counted."""
    from bench.unseen import test_rows

    rows = [{"input": f"Row {i}", "output": "a"} for i in range(50)]
    kept, dropped = test_rows(rows, [{"input": "row 3 ", "output": "a"}], 50)
    assert dropped == 1 and len(kept) == 49 and all(r["input"] != "Row 3" for r in kept)
    assert test_rows(rows, [], 10) == test_rows(rows, [], 10)  # seed 0 whatever the bench's seed


def test_seeds_shift_the_run_seed_and_figures_are_summarised_with_their_spread():
    from bench.unseen import summary

    assert run_config("none", [], seed=0).train.seed == 42 and run_config("none", [], seed=2).train.seed == 44
    figures = summary([{"student": 0.7, "teacher": 0.9, "gap_vs_teacher": -0.2},
                       {"student": 0.8, "teacher": 0.9, "gap_vs_teacher": -0.1}])
    assert figures["student"]["mean"] == 0.75 and figures["student"]["sd"] == 0.0707
    assert figures["gap_vs_teacher"] == {"mean": -0.15, "sd": 0.0707, "min": -0.2, "max": -0.1, "n": 2}


def test_the_cascade_is_summarised_over_seeds_beside_the_student():
    from bench.unseen import summary

    figures = summary([{"student": 0.7, "cascade": {"value": 0.9, "sent_to_teacher": 0.3}},
                       {"student": 0.8, "cascade": {"value": 0.92, "sent_to_teacher": 0.2}}])
    assert figures["cascade"]["mean"] == 0.91 and figures["sent_to_teacher"]["max"] == 0.3


def test_unlabelled_inputs_come_from_the_train_split_without_labels_demonstrations_or_test_rows():
    """Issue 32: `--unlabelled N` gives the run real inputs of the task, labels withheld."""
    from bench.unseen import unlabelled_inputs

    rows = [{"input": f"Row {i}", "output": "ab"[i % 2]} for i in range(40)]
    texts = unlabelled_inputs(rows, ["row 1", "Row 2 "], 30, seed=0)
    assert len(texts) == 30 and all(isinstance(t, str) for t in texts)
    assert "Row 1" not in texts and "Row 2" not in texts and len(set(texts)) == 30
    assert texts == unlabelled_inputs(rows, ["row 1", "Row 2 "], 30, seed=0)
    assert texts != unlabelled_inputs(rows, ["row 1", "Row 2 "], 30, seed=1)
    assert len(unlabelled_inputs(rows, [], 100, seed=0)) == 40  # no more than the split holds


def test_every_family_has_a_task_a_user_would_write():
    """Issue 34 item 4: SQuAD, WNUT-17 and CoNaLa beside the classification tasks."""
    from bench.unseen import FAMILY_DEMOS, build_task

    qa = [{"input": f"Context: c{i}\nQuestion: q{i}", "output": f"a{i}"} for i in range(10)]
    ner = [{"input": f"Ada went to Paris {i}", "output": "person: Ada; location: Paris"} for i in range(9)] + \
          [{"input": "nothing", "output": "none"}]
    task = build_task("squad", qa, seed=0)
    assert task.task_type == "extractive_qa" and len(task.examples) == FAMILY_DEMOS and task.labels is None
    assert build_task("squad", qa, seed=1).examples != task.examples
    assert build_task("wnut17_ner", ner, seed=0).labels == ["location", "person"]
    assert build_task("conala_en", qa, seed=0, unlabelled=["x"]).unlabelled == ["x"]
    assert build_task("trec", [{"input": f"q{i}", "output": "ab"[i % 2]} for i in range(8)], 0).labels == ["a", "b"]
    with pytest.raises(SystemExit, match="unknown task"):
        build_task("mnist", qa, 0)


def test_generation_rounds_are_read_from_the_trace(tmp_path):
    import json

    from bench.unseen import generation_rounds

    events = [{"kind": "decision", "tool": "generate_examples"},
              {"kind": "tool", "tool": "generate_examples", "summary": {"asked": 80, "kept": 50,
                                                                         "dropped": {"low_agreement": 30}}},
              {"kind": "tool", "tool": "train", "summary": {"n_train": 50}},
              {"kind": "tool", "tool": "generate_examples", "summary": {"asked": 40, "kept": 38}}]
    (tmp_path / "trace.jsonl").write_text("\n".join(json.dumps(e) for e in events) + "\nnot json\n")
    assert generation_rounds(tmp_path) == [
        {"asked": 80, "kept": 50, "kept_share": 0.625, "dropped": {"low_agreement": 30}},
        {"asked": 40, "kept": 38, "kept_share": 0.95, "dropped": {}}]


def test_the_peak_memory_of_the_run_process_is_reported():
    """Issue 34: the whole run's peak resident memory, measured on the run's process."""
    from bench.unseen import peak_rss_gb

    before = peak_rss_gb()
    block = bytearray(300 * 1024 * 1024)  # touch 300 MB
    block[::4096] = b"x" * len(block[::4096])
    assert peak_rss_gb() >= max(before, 0.3) and before > 0.01


def test_calibration_texts_are_more_train_inputs_the_run_never_saw(monkeypatch, tmp_path):
    """Issue 33: a run's 60 held-out texts are under the 149 a 2% bound needs; `--calibrate N`
    labels N more train-split inputs with the teacher, none the run was given or a test row."""
    import bench.unseen as unseen

    asked = {}

    def fake_calibrate(run_dir, texts, n, teacher):
        asked.update(texts=texts, n=n, teacher=teacher)
        return {"threshold": 0.9, "answered_alone": 0.7, "n": 260, "upper_bound": 0.019, "budget": 0.02}

    monkeypatch.setattr(unseen, "calibrate_run", fake_calibrate)
    rows = [{"input": f"Row {i}", "output": "ab"[i % 2]} for i in range(60)]
    given = unseen.unlabelled_inputs(rows, ["Row 0"], 30, seed=0)
    out = unseen.calibrate_more(tmp_path, rows, ["Row 0", *given], 20, 0, teacher="T")
    assert len(asked["texts"]) == 20 and asked["n"] == 20 and asked["teacher"] == "T"
    assert not set(asked["texts"]) & {"Row 0", *given}
    assert out["threshold"] == 0.9 and out["texts_given"] == 20 and "calibrate_s" in out


def test_the_line_says_which_encoders_head_won(tmp_path):
    from bench.unseen import student_kind
    from p2m.tools.training.head import save_head

    save_head({"encoder": "mpnet", "constant": "a"}, tmp_path / "h")
    save_head({"encoder": "/some/where/rival-encoder", "constant": "a"}, tmp_path / "r")
    (tmp_path / "f").mkdir()
    assert student_kind(tmp_path / "h") == "head:mpnet" and student_kind(tmp_path / "r") == "head:rival-encoder"
    assert student_kind(tmp_path / "f") == "finetuned"
    for name, model_type, kind in (("minilm", "bert", "finetuned"), ("mpnet", "mpnet", "finetuned:mpnet")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "config.json").write_text('{"model_type": "%s"}' % model_type)
        assert student_kind(tmp_path / name) == kind  # which encoder was fine-tuned


def test_a_derived_task_maps_its_field_to_label_names_and_withholds_its_source(tmp_path):
    """trec_fine (issue 32's review: a task no setting was tuned on) reads TREC's fine types as
    label names, leaves out rows of other types, and its catalog lacks TREC itself."""
    import json

    from bench.unseen import build_task, catalog_without, known_tasks, source_dataset, task_rows

    shared = tmp_path / "shared"
    for name in ("trec", "sst2"):
        (shared / "datasets" / name).mkdir(parents=True)
    rows = [{"input": "What is a tornado ?", "output": "description", "fine_label": "DESC:def"},
            {"input": "Who wrote Hamlet ?", "output": "human", "fine_label": "HUM:ind"},
            {"input": "What does NASA stand for ?", "output": "abbreviation", "fine_label": "ABBR:exp"},
            {"input": "What is a volcano ?", "output": "description", "fine_label": "DESC:def"},
            {"input": "Who painted Guernica ?", "output": "human", "fine_label": "HUM:ind"}]
    (shared / "datasets" / "trec" / "train.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    assert "trec_fine" in known_tasks() and source_dataset("trec_fine") == "trec"
    fine = task_rows(shared, "trec_fine", "train")
    assert fine[:2] == [{"input": "What is a tornado ?", "output": "definition"},
                        {"input": "Who wrote Hamlet ?", "output": "person"}]
    assert len(fine) == 4 and "What does NASA stand for ?" not in {r["input"] for r in fine}
    assert len(task_rows(shared, "trec", "train")) == 5  # a plain task reads its rows as they are
    task = build_task("trec_fine", fine, seed=0)
    assert task.labels == ["definition", "person"] and "another place" in task.instruction
    catalog = catalog_without(shared, source_dataset("trec_fine"), tmp_path / "catalog")
    assert sorted(p.name for p in catalog.iterdir()) == ["sst2"]


def test_a_task_file_brings_its_own_demonstrations_and_its_gold_rows_beside_it(tmp_path):
    """Tasks no run has read (bench/tasks/*.yaml): the file's demonstrations whatever the seed, the
    gold rows in NAME.gold.jsonl as the test, never a file whose test rows the run would see."""
    import json

    import pytest

    from bench.unseen import build_task, catalog_without, gold_file, slug, source_dataset, task_rows

    shared = tmp_path / "shared"
    (shared / "datasets" / "sst2").mkdir(parents=True)
    task_file = tmp_path / "dates.yaml"
    task_file.write_text("instruction: Rewrite the date as YYYY-MM-DD.\ntask_type: text2text\nexamples:\n"
                         "  - {input: 'July 4, 1976', output: '1976-07-04'}\n"
                         "  - {input: '31 October 2013', output: '2013-10-31'}\n")
    name = str(task_file)
    with pytest.raises(SystemExit, match="no gold rows"):
        task_rows(shared, name, "test")
    gold = [{"input": "5 March 2021", "output": "2021-03-05"}, {"input": "June 1, 1999", "output": "1999-06-01"}]
    gold_file(name).write_text("".join(json.dumps(r) + "\n" for r in gold))
    assert gold_file(name).name == "dates.gold.jsonl" and slug(name) == "dates"
    assert task_rows(shared, name, "train") == [] and task_rows(shared, name, "test") == gold
    tasks = [build_task(name, [], seed) for seed in (0, 1)]
    assert tasks[0].examples == tasks[1].examples and len(tasks[0].examples) == 2 and not tasks[0].test
    more = "".join(f"  - {{input: '{d} May 2000', output: '2000-05-0{d}'}}\n" for d in range(1, 7))
    task_file.write_text(task_file.read_text() + more)  # 8 demonstrations: 4 of them, drawn with the seed
    drawn = [build_task(name, [], seed).examples for seed in range(4)]
    assert all(len(d) == 4 for d in drawn) and drawn[0] == build_task(name, [], 0).examples
    assert len({tuple(e.input for e in d) for d in drawn}) > 1  # seeds show other demonstrations
    catalog = catalog_without(shared, source_dataset(name), tmp_path / "catalog")
    assert [p.name for p in catalog.iterdir()] == ["sst2"]  # every shared dataset
    task_file.write_text(task_file.read_text() + "test:\n  - {input: '1 May 2000', output: '2000-05-01'}\n")
    with pytest.raises(SystemExit, match="would see its test rows"):
        build_task(name, [], 0)


def test_the_repository_task_files_have_gold_rows_none_of_them_a_demonstration():
    from pathlib import Path

    from bench.unseen import build_task, task_rows

    for name in ("pandas", "dates"):
        path = str(Path(__file__).resolve().parents[1] / "bench" / "tasks" / f"{name}.yaml")
        demos = {e.input for seed in range(8) for e in build_task(path, [], seed).examples}
        gold = task_rows(Path("unused"), path, "test")
        assert len(gold) >= 40 and not demos & {r["input"] for r in gold}
        assert len({r["input"] for r in gold}) == len(gold)


def test_the_line_gives_what_the_point_estimates_alone_would_have_published():
    from bench.unseen import point_estimates_choice

    report = {"estimate": {"point_estimates": "baseline", "decided_on": "9 held-out validation rows"}}
    assert point_estimates_choice(report, 0.42, 0.105) == ("baseline", 0.105)
    assert point_estimates_choice({"estimate": {"point_estimates": "student"}}, 0.42, 0.105) == ("student", 0.42)
    assert point_estimates_choice({"estimate": None}, 0.42, 0.105) == (None, None)
