"""The tool registry: every tool is one spec, and the guard, act and trace read only the spec."""
from dataclasses import replace

import pytest

from p2m.runfolder.context import RunContext
from p2m.runfolder.trace import TraceWriter
from p2m.core.config import RunConfig
from p2m.agent.guard import check
from p2m.agent.planner import planner_messages
from p2m.graph.nodes import make_act
from p2m.agent.state import initial_state
from p2m.core.schemas import TaskSpec
from p2m.tools.specs import REGISTRY, ToolArgs, ToolSpec, build_tools
from p2m.trace_view import timeline_rows

TASK = TaskSpec(instruction="sentiment", labels=["negative", "positive"],
                examples=[{"input": "good", "output": "positive"}, {"input": "bad", "output": "negative"}])


def ctx(tmp_path) -> RunContext:
    return RunContext(run_dir=tmp_path, task=TASK, config=RunConfig(), llm=None,
                      trace=TraceWriter(tmp_path / "trace.jsonl"), catalog=[])


def test_every_tool_has_a_description_and_a_langchain_form(tmp_path):
    tools = build_tools(ctx(tmp_path))
    assert [t.name for t in tools] == list(REGISTRY)
    for tool, spec in zip(tools, REGISTRY.values()):
        assert spec.description and tool.description == spec.description
        assert tool.args_schema is spec.args


def test_why_not_reports_bad_arguments_and_repeated_failures(tmp_path):
    spec, c, s = REGISTRY["train"], ctx(tmp_path), initial_state()
    assert spec.why_not({"epochs": "many"}, s, c).startswith("invalid arguments")
    assert spec.why_not({"bogus": 1}, s, c).startswith("invalid arguments")
    s.update(failures={"train": 2})
    assert "failed 2 times" in spec.why_not({}, s, c)


class CountArgs(ToolArgs):
    split: str = "train"


def count_rows(ctx: RunContext, split: str = "train") -> dict:
    """Count the run's rows of one split."""
    return {"split": split, "n": len(ctx.store.split(split))}


COUNT = ToolSpec(name="count_rows", run=count_rows, args=CountArgs,
                 refuse=lambda args, state, ctx: None if args["split"] in ("train", "test") else "unknown split",
                 update=lambda result, args, state, ctx: {"steps_counted": result["n"]},
                 view=lambda result: f"{result['n']} {result['split']} rows")


def test_a_new_tool_is_one_spec(tmp_path, monkeypatch):
    """Registering a spec is all it takes: the guard checks it, act runs it and applies its update,
    the planner is told about it and the trace shows its view."""
    monkeypatch.setitem(REGISTRY, "count_rows", COUNT)
    c, s = ctx(tmp_path), initial_state()
    assert check({"tool": "count_rows", "args": {"split": "nope"}}, s, c) == "unknown split"
    assert check({"tool": "count_rows", "args": {}}, s, c) is None
    assert "count_rows" in planner_messages(s, c)[1]["content"]
    s["proposal"] = {"tool": "count_rows", "args": {"split": "train"}, "by": "llm"}
    update = make_act(c)(s)
    assert update["steps_counted"] == 0 and update["last"]["summary"] == {"split": "train", "n": 0}
    assert timeline_rows(tmp_path)[-1]["detail"] == "0 train rows"


def test_a_failing_tool_counts_its_failure_and_applies_its_failure_update(tmp_path, monkeypatch):
    def broken(ctx, name, relabel=False):
        raise RuntimeError("disk on fire")

    monkeypatch.setitem(REGISTRY, "load_dataset", replace(REGISTRY["load_dataset"], run=broken))
    s = initial_state()
    s["proposal"] = {"tool": "load_dataset", "args": {"name": "sst2"}, "by": "llm"}
    update = make_act(ctx(tmp_path))(s)
    assert update["failures"]["load_dataset"] == 1
    assert update["rejected"] == {"sst2": "RuntimeError: disk on fire"}


@pytest.mark.parametrize("tool", list(REGISTRY))
def test_views_read_the_results_their_tools_write(tool):
    """Each view formats a typical result of its tool without error."""
    samples = {
        "search_datasets": {"candidates": [{"name": "sst2", "compatible": True}]},
        "load_dataset": {"loaded": "sst2", "n_train": 9, "n_validation": 1, "n_test": 5, "relabelled": 0},
        "label_inputs": {"asked": 5, "labelled": 5, "added": 4, "n_validation": 1, "labels": {"a": 4}, "left": 0},
        "generate_examples": {"asked": 8, "kept": 6, "dropped": {}, "label_counts": {"a": 3}},
        "choose_model": {"name": "m", "params": 10, "reason": "small"},
        "train": {"n_train": 9, "epochs_run": 2, "train_s": 1.0, "examples_per_s": 9, "best_val": 0.5},
        "evaluate": {"metric": {"name": "accuracy", "value": 0.5, "ci": [0.2, 0.8]}, "n": 4,
                     "test_source": "user", "baselines": {"teacher": 0.7}, "validation": None,
                     "published": "student"},
        "finish": {"finished": True, "reason": "target met"},
    }
    assert REGISTRY[tool].view(samples[tool])


def test_each_generation_round_asks_the_teacher_for_new_subjects(tmp_path):
    from p2m.llm.scripted_llm import ScriptedLLM
    from p2m.tools.specs.generate_examples import round_subjects

    def reply(*subjects):
        return {"purpose": "attributes", "json": {"subjects": list(subjects)}}

    teacher = ScriptedLLM([reply("plot", "cast"), reply("music", "plot"),
                           reply("sets", "pace"), reply("Music", "costumes")])
    c = replace(ctx(tmp_path), llm=ScriptedLLM([]), teacher_llm=teacher)
    assert round_subjects(c, 0, blind=False) == {"negative": ["plot", "cast"], "positive": ["music", "plot"]}
    second = round_subjects(c, 1, blind=False)
    assert second == {"negative": ["sets", "pace"], "positive": ["costumes"]}  # "music" was used
    assert "used already: music; plot" in teacher.seen[-1][0]["content"]
    assert len(c.read_json("data/attributes.json", {})["rounds"]) == 2
    # A resumed round 1 (killed before its row count was saved) replaces, never appends.
    teacher.replies = [reply("sets", "pace"), reply("costumes")]
    round_subjects(c, 1, blind=False)
    assert len(c.read_json("data/attributes.json", {})["rounds"]) == 2


def test_a_blind_round_of_a_code_task_asks_for_programming_topics_without_its_demonstrations(tmp_path):
    """Blind (demonstration folds score the run), the proposal saw an instruction only and the
    1.5B listed Art, History, Music for a Python task: the rows written about them were prose."""
    from p2m.llm.scripted_llm import ScriptedLLM
    from p2m.tools.specs.generate_examples import round_subjects

    code = TaskSpec(instruction="Write the Python code the English says", task_type="text2text",
                    examples=[{"input": "reverse list x", "output": "x[::-1]"},
                              {"input": "sum of list x", "output": "sum(x)"}])
    teacher = ScriptedLLM([{"purpose": "attributes", "json": {"subjects": ["sorting", "file paths"]}}])
    c = replace(ctx(tmp_path), task=code, llm=ScriptedLLM([]), teacher_llm=teacher)
    assert round_subjects(c, 0, blind=True) == {"": ["sorting", "file paths"]}
    prompt = teacher.seen[-1][0]["content"]
    assert "Python code works on" in prompt and "many areas of life" not in prompt
    assert "x[::-1]" not in prompt and "reverse list x" not in prompt  # still blind
    teacher.replies = [{"purpose": "attributes", "json": {"subjects": ["plot"]}}] * 2
    round_subjects(replace(c, task=TASK), 0, blind=True)
    assert "many areas of life" in teacher.seen[-1][0]["content"]  # other tasks: as before


def test_the_planner_is_offered_only_calls_that_are_legal_now(tmp_path):
    from p2m.llm.llm import decision_schema
    from p2m.tools.retrieval.models import local_models
    from p2m.tools.specs import offered_tools

    c, s = ctx(tmp_path), initial_state()
    offered = [t.name for t in offered_tools(c, s)]
    assert "load_dataset" not in offered and "generate_examples" not in offered  # nothing retrieved, no LLM
    assert all(REGISTRY[name].unavailable(s, c) is None for name in offered)
    s.update(searched=True, candidates=[{"name": "sst2", "compatible": True},
                                        {"name": "trec", "compatible": False, "reason": "other labels"}])
    branches = {b["properties"]["tool"]["const"]: b["properties"]["args"]["properties"]
                for b in decision_schema(offered_tools(c, s))["anyOf"]}
    assert branches["load_dataset"]["name"]["enum"] == ["sst2"]  # the unfit dataset cannot be decoded
    assert set(branches["choose_model"]["name"]["enum"]) <= set(local_models()) | {""}
    s.update(failures={"load_dataset": 2})
    assert "load_dataset" not in [t.name for t in offered_tools(c, s)]


def test_only_models_that_can_be_this_tasks_student_are_offered(tmp_path, monkeypatch):
    """The embedded GGUF is on disk but is the run's LLM, not a student: a planner that names it
    would only be overridden by the guard (seen with the 0.5B planning the e2e run)."""
    from p2m.llm.llm import decision_schema
    from p2m.tools.retrieval import models
    from p2m.tools.specs import offered_tools

    gguf = tmp_path / "q.gguf"
    gguf.write_bytes(b"GGUF")
    found = {**models.local_models(), "Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF": str(gguf)}
    monkeypatch.setattr(models, "local_models", lambda: dict(found))
    monkeypatch.setattr("p2m.tools.specs.choose_model.local_models", lambda: dict(found))
    c, s = ctx(tmp_path), {**initial_state(), "searched": True}
    enum = {b["properties"]["tool"]["const"]: b["properties"]["args"]["properties"]
            for b in decision_schema(offered_tools(c, s))["anyOf"]}["choose_model"]["name"]["enum"]
    assert "Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF" not in enum
    assert all(REGISTRY["choose_model"].why_not({"name": n}, s, c) is None for n in enum)
    only = {"Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF": str(gguf)}  # nothing else fits once chosen
    found.clear()
    found.update(only)
    s["model"] = {"name": "sentence-transformers/all-MiniLM-L6-v2"}
    assert "choose_model" not in [t.name for t in offered_tools(c, s)]


def test_a_chosen_student_is_trained_before_another_is_chosen(tmp_path, monkeypatch):
    """Seen with the 0.5B planning beside two models on disk (MiniLM, mpnet): it chose one, then
    the other, 30 times, and the run ended at max tool calls with nothing trained."""
    from p2m.tools.retrieval import models
    from p2m.tools.specs import offered_tools

    other = tmp_path / "other"
    other.mkdir()
    (other / "config.json").write_text('{"model_type": "bert", "hidden_size": 8, "num_hidden_layers": 1}')
    found = {**models.local_models(), "org/other-encoder": str(other)}
    monkeypatch.setattr(models, "local_models", lambda: dict(found))
    monkeypatch.setattr("p2m.tools.specs.choose_model.local_models", lambda: dict(found))
    c = ctx(tmp_path)
    spec = REGISTRY["choose_model"]
    s = {**initial_state(), "searched": True}
    assert "choose_model" in [t.name for t in offered_tools(c, s)]
    s.update(spec.update({"name": "org/other-encoder"}, {"name": "org/other-encoder"}, s, c))
    assert s["trained_rows"] == -1 and "not trained yet" in spec.why_not({"name": ""}, s, c)
    assert "choose_model" not in [t.name for t in offered_tools(c, s)]
    s.update(trained_rows=40, needs_eval=True)
    assert "not evaluated" in spec.why_not({"name": ""}, s, c)
    s.update(needs_eval=False, evaluations=1)  # trained and scored: another student may be tried
    assert spec.why_not({"name": models.MINILM}, s, c) is None
    s.update(spec.update({"name": models.MINILM}, {"name": models.MINILM}, s, c))
    assert s["trained_rows"] == -1  # the new student has seen no rows, whatever the last one saw


def test_a_student_the_user_chose_is_not_switched_by_the_planner(tmp_path):
    from p2m.tools.specs import offered_tools

    c = ctx(tmp_path)
    c.config.model = "sentence-transformers/all-MiniLM-L6-v2"
    spec, s = REGISTRY["choose_model"], {**initial_state(), "searched": True}
    assert "the user chose" in spec.why_not({"name": "org/anything"}, s, c)
    assert spec.why_not({"name": ""}, s, c) is None
    s.update(model={"name": c.config.model}, trained_rows=40, evaluations=1)
    assert "the user chose" in spec.why_not({"name": ""}, s, c)
    assert "choose_model" not in [t.name for t in offered_tools(c, s)]


def test_error_driven_rows_and_a_plain_retrain_are_offered_only_when_legal(tmp_path):
    from p2m.llm.llm import decision_schema
    from p2m.llm.scripted_llm import ScriptedLLM
    from p2m.tools.specs import offered_tools

    c = replace(ctx(tmp_path), llm=ScriptedLLM([], max_calls=1000))
    s = {**initial_state(), "n_train": 40, "trained_rows": 40, "model": {"name": "tiny"}}

    def args(tool: str) -> dict:
        return {b["properties"]["tool"]["const"]: b["properties"]["args"]["properties"]
                for b in decision_schema(offered_tools(c, s))["anyOf"]}[tool]

    assert args("generate_examples")["errors_only"]["enum"] == [False]  # no evaluation yet
    assert 0 not in args("train")["epochs"]["enum"]  # same data: only other epochs retrain
    s.update(history=[{"iteration": 1, "name": "accuracy", "value": 0.5, "n": 8}], n_train=60)
    assert "enum" not in args("generate_examples")["errors_only"]
    assert args("train")["epochs"]["enum"][0] == 0 and max(args("train")["epochs"]["enum"]) <= 50


def test_generation_closes_after_two_rounds_in_a_row_that_kept_nothing(tmp_path):
    """A round that kept no row (the LLM failing, every row a duplicate) was asked again and
    again by the policy until the step budget (30) was spent."""
    from p2m.llm.scripted_llm import ScriptedLLM
    from p2m.tools.specs.generate_examples import SPEC

    c = replace(ctx(tmp_path), llm=ScriptedLLM([], max_calls=1000))
    s = {**initial_state(), "n_train": 40, "trained_rows": 40, "history": [{"iteration": 1}]}
    empty, full = {"kept": 0, "seconds": 1.0}, {"kept": 5, "seconds": 1.0}
    s.update(SPEC.update(empty, {}, s, c))
    assert s["empty_rounds"] == 1 and SPEC.unavailable(s, c) is None
    s.update(SPEC.update(empty, {}, s, c))
    assert SPEC.unavailable(s, c) == "the last 2 rounds kept no row"
    assert SPEC.update(full, {}, s, c)["empty_rounds"] == 0  # a round that keeps rows opens it again


def test_round_sizes_offered_stay_within_the_cap_and_the_call_budget(tmp_path):
    from p2m.llm.scripted_llm import ScriptedLLM
    from p2m.tools.specs import offered_tools

    c = ctx(tmp_path)
    c.llm = ScriptedLLM([], max_calls=100)
    sizes = {t.name: t for t in offered_tools(c, initial_state())}["generate_examples"].args_schema
    allowed = sizes.model_json_schema()["properties"]["n"]["enum"]
    assert 0 in allowed and max(allowed) <= c.config.data.generate_n


def test_a_dataset_whose_labels_hurt_the_demonstrations_is_rejected(tmp_path, shared):
    """The fold ablation in load_dataset: SST-2 rows with their labels swapped resemble the task's
    inputs (the fit check passes) but teach the opposite; the same rows as they are load."""
    import json
    import random

    from p2m.tools.retrieval.catalog import DatasetError, load_catalog

    rows = [json.loads(line) for line in (shared / "datasets" / "sst2" / "train.jsonl").read_text().splitlines()]
    rng = random.Random(3)
    picked = rng.sample(rows, 208)
    demos = [{"input": r["input"], "output": r["output"]} for r in picked[:200] if r["output"] == "negative"][:4] + \
        [{"input": r["input"], "output": r["output"]} for r in picked[:200] if r["output"] == "positive"][:4]
    task = TaskSpec(instruction="sentiment of a movie review", labels=["negative", "positive"], examples=demos)
    swap = {"negative": "positive", "positive": "negative"}
    results = {}
    for name, flip in (("flipped", True), ("asis", False)):
        folder = tmp_path / f"catalog-{name}" / "sst2"
        folder.mkdir(parents=True)
        (folder / "card.json").write_text((shared / "datasets" / "sst2" / "card.json").read_text())
        train = [{**r, "output": swap[r["output"]] if flip else r["output"]} for r in picked[200:] + rng.sample(rows, 150)]
        (folder / "train.jsonl").write_text("\n".join(json.dumps(r) for r in train) + "\n")
        (folder / "test.jsonl").write_text("\n".join(json.dumps(r) for r in rng.sample(rows, 20)) + "\n")
        run = tmp_path / f"run-{name}"
        run.mkdir()
        c = RunContext(run_dir=run, task=task, config=RunConfig(), llm=None,
                       trace=TraceWriter(run / "trace.jsonl"), catalog=load_catalog([folder.parent]))
        try:
            results[name] = REGISTRY["load_dataset"].run(c, name=c.catalog[0].name)
        except DatasetError as exc:
            results[name] = str(exc)
    assert isinstance(results["flipped"], str) and "worse on the user's examples" in results["flipped"]
    assert not isinstance(results["asis"], str), results["asis"]
    assert results["asis"]["ablation"]["keep"] and results["asis"]["n_train"] > 0


def test_label_inputs_turns_the_users_unlabelled_texts_into_teacher_labelled_rows(tmp_path):
    """Issue 32 item 2: the user's own inputs (an inbox) are labelled by the teacher, its
    distribution kept; every 5th is a validation row; a text equal to a test row or a
    demonstration is never added."""
    from p2m.llm.scripted_llm import ScriptedLLM
    from p2m.core.schemas import Example
    from p2m.runfolder.data_store import user_rows

    texts = [f"message number {i}" for i in range(12)]
    task = TASK.model_copy(update={"unlabelled": texts + ["good"]})  # "good" is a demonstration
    llm = ScriptedLLM([{"purpose": "teacher", "probs": {"positive": 0.9, "negative": 0.1}}
                       for _ in range(13)])
    c = RunContext(run_dir=tmp_path, task=task, config=RunConfig(), llm=llm,
                   trace=TraceWriter(tmp_path / "trace.jsonl"), catalog=[])
    c.store.add(user_rows(task) + [Example(input="message number 3", output="negative", split="test",
                                           source={"kind": "user_test"})])
    s = {**initial_state(), "n_train": 2}
    spec = REGISTRY["label_inputs"]
    assert spec.why_not({"n": 5}, s, c) is None
    update = make_act(c)({**s, "proposal": {"tool": "label_inputs", "args": {"n": 5}}})
    assert update["labelled_inputs"] == 5 and update["n_train"] == 2 + 3  # 4 added, 1 of them validation
    rows = [e for e in c.store.all() if e.source.get("kind") == "unlabelled"]
    assert [e.input for e in rows] == ["message number 0", "message number 1", "message number 2",
                                       "message number 4"]  # 3 is a test row: not added
    assert [e.split for e in rows] == ["train", "train", "train", "validation"]  # row 4: every 5th
    assert all(e.source["teacher_probs"] == {"positive": 0.9, "negative": 0.1} and e.output == "positive"
               for e in rows)
    # gold test rows score the run, so no demonstration fold is held out of the labels' prompts
    assert not any("fold" in e.source for e in rows) and all(e.source["relabelled_by"] for e in rows)
    state = {**s, **update}
    update = make_act(c)({**state, "proposal": {"tool": "label_inputs", "args": {"n": 400}}})
    assert update["labelled_inputs"] == 13 and "every unlabelled text" in spec.why_not({}, {**state, **update}, c)
    assert not [e for e in c.store.all() if e.source.get("kind") == "unlabelled" and e.input == "good"]
    progress = c.read_json("unlabelled.json")  # rows a minute, over the run's labelling so far
    assert progress["labelled"] == 13 and progress["labelling_s"] > 0 and progress["labelled_up_to"] == 13
    from p2m.tools.specs.label_inputs import per_minute

    assert per_minute(progress) > 0 and per_minute({"labelled": 30, "labelling_s": 60}) == 30.0
    assert per_minute({}) is None


def test_label_inputs_saves_its_progress_per_chunk(tmp_path, monkeypatch):
    """A run killed while labelling a thousand texts resumes after the last saved chunk, not
    from the first text (the progress file is written every CHUNK texts)."""
    from p2m.llm.scripted_llm import ScriptedLLM
    from p2m.tools.specs import label_inputs as module

    texts = [f"message number {i}" for i in range(module.CHUNK + 5)]
    replies = [{"purpose": "teacher", "probs": {"positive": 0.9, "negative": 0.1}}] * len(texts)
    c = RunContext(run_dir=tmp_path, task=TASK.model_copy(update={"unlabelled": texts}), config=RunConfig(),
                   llm=ScriptedLLM(list(replies)), trace=TraceWriter(tmp_path / "trace.jsonl"), catalog=[])
    real, calls = module.label_with_teacher, []

    def killed_on_the_second_chunk(*args, **kwargs):
        calls.append(len(args[2]))
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(module, "label_with_teacher", killed_on_the_second_chunk)
    with pytest.raises(KeyboardInterrupt):
        module.label_inputs(c, n=len(texts))
    assert c.read_json("unlabelled.json")["labelled_up_to"] == module.CHUNK
    result = module.label_inputs(c, n=len(texts))
    assert calls == [module.CHUNK, 5, 5] and result["asked"] == 5 and result["left"] == 0
    assert c.read_json("unlabelled.json")["labelled"] == len(texts)


def test_label_inputs_stops_at_half_the_wall_budget_not_at_a_call_budget(tmp_path, monkeypatch):
    """bench.unseen SST-2 with 1,500 texts of the user's: a 400-call budget stopped the labelling
    at 379. Labelling goes on while time is left (half the wall budget is kept for training,
    generation and scoring), and says where and why it stopped."""
    import time

    from p2m.llm.scripted_llm import ScriptedLLM
    from p2m.tools.specs import label_inputs as module

    texts = [f"message number {i}" for i in range(3 * module.CHUNK)]
    assert RunConfig().budget.max_llm_calls >= 1500
    replies = [{"purpose": "teacher", "probs": {"positive": 0.9, "negative": 0.1}}] * len(texts)
    c = RunContext(run_dir=tmp_path, task=TASK.model_copy(update={"unlabelled": texts}), config=RunConfig(),
                   llm=ScriptedLLM(list(replies)), trace=TraceWriter(tmp_path / "trace.jsonl"), catalog=[])
    budget = c.config.budget.max_wall_s
    c.deadline = time.monotonic() + budget  # the whole budget ahead: every chunk is labelled
    assert module.label_inputs(c, n=module.CHUNK)["left"] == 2 * module.CHUNK
    real = module.label_with_teacher

    def slow(*args, **kwargs):  # the first chunk takes the run past half its budget
        c.deadline = time.monotonic() + 0.4 * budget
        return real(*args, **kwargs)

    monkeypatch.setattr(module, "label_with_teacher", slow)
    result = module.label_inputs(c, n=2 * module.CHUNK)
    assert result["labelled"] == module.CHUNK and result["left"] == module.CHUNK
    assert "kept for training and scoring" in result["stopped"] and "stopped:" in module.view(result)
    assert c.read_json("unlabelled.json")["labelled_up_to"] == 2 * module.CHUNK
    assert "wall budget" in module.unavailable({"labelled_inputs": 2 * module.CHUNK}, c)


def test_only_the_published_student_is_given_the_time_left(tmp_path, monkeypatch):
    """Fold students keep the cheaper encoder: only the run's own student may spend the time left
    on fine-tuning a rival encoder (three trainings per iteration otherwise)."""
    import time

    from p2m.runfolder.run_files import CHOICE
    from p2m.tools.specs import train as train_spec
    from p2m.tools.training.finetune import TrainResult

    given = []

    def fake_train_for(task, path, rows, out_dir, cfg, progress=True, val_rows=None, seconds_left=None):
        given.append(seconds_left)
        return TrainResult(path=str(out_dir), train_s=1.0, examples_per_s=1.0, n_train=len(rows), n_val=0,
                           best_val=None, epochs_run=1.0, batch_size=8)

    monkeypatch.setattr(train_spec, "train_for", fake_train_for)
    monkeypatch.setattr(train_spec, "test_plan", lambda c: {"mode": "folds", "k": 2})
    monkeypatch.setattr(train_spec, "fold_rows", lambda rows, plan, fold: rows)
    c = ctx(tmp_path)
    c.write_json(CHOICE, {"path": "model"})
    c.deadline = time.monotonic() + 1000
    train_spec.train(c)
    assert len(given) == 3 and 990 < given[0] <= 1000 and given[1:] == [None, None]
