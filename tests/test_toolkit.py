"""Tools as plain functions on a run context: relabelling, and where error-driven rows come from."""
from __future__ import annotations

from p2m.runfolder.context import RunContext
from p2m.llm.scripted_llm import ScriptedLLM
from p2m.runfolder.trace import TraceWriter
from p2m.core.config import RunConfig
from p2m.core.schemas import TaskSpec
from p2m.tools.retrieval import datasets as ds
from p2m.tools.retrieval.catalog import load_catalog
from p2m.tools.specs.load_dataset import load_dataset as load_dataset_tool

TASK = TaskSpec(instruction="Is the question about a person?", labels=["person", "other"])


def test_relabel_labels_real_inputs_in_the_task_scheme(tmp_path, sst2_catalog):
    config = RunConfig(catalog=[str(sst2_catalog)])
    config.data.relabel_max = 8
    replies = [{"purpose": "teacher", "json": {"label": "person" if i % 3 == 0 else "other"}}
               for i in range(10)]
    ctx = RunContext(run_dir=tmp_path, task=TASK, config=config, llm=ScriptedLLM(replies),
                     trace=TraceWriter(tmp_path / "t.jsonl"), catalog=load_catalog([sst2_catalog]))
    trec = next(e for e in ctx.catalog if e.name == "trec")
    assert ds.relabel_candidate(trec, TASK)
    result = load_dataset_tool(ctx, "trec", relabel=True)
    # Teacher labels never make test rows: the dataset's test rows join training and validation.
    assert result["relabelled"] == 10 and result["n_test"] == 0
    assert result["n_train"] == 9 and result["n_validation"] == 1
    rows = ctx.store.all()
    assert not [r for r in rows if r.split == "test"]
    assert {r.output for r in rows} == {"person", "other"}
    assert all(r.source["relabelled_by"] == "scripted" and r.source["original_label"] for r in rows)


def test_relabel_is_refused_without_an_llm(tmp_path, sst2_catalog):
    ctx = RunContext(run_dir=tmp_path, task=TASK, config=RunConfig(), llm=None,
                     trace=TraceWriter(tmp_path / "t.jsonl"), catalog=load_catalog([sst2_catalog]))
    import pytest

    with pytest.raises(ds.DatasetError, match="needs an LLM"):
        load_dataset_tool(ctx, "trec", relabel=True)


def test_generator_sees_validation_mistakes_never_test_rows(tmp_path, tiny_model_dir):
    from p2m.core.schemas import Example
    from p2m.tools.specs.evaluate import evaluate as evaluate_tool
    from p2m.tools.specs.generate_examples import generate_examples as generate_examples_tool
    from p2m.tools.specs.train import train as train_tool

    task = TaskSpec(instruction="Sentiment of a review", labels=["negative", "positive"])
    config = RunConfig()
    config.train.epochs = 1
    ctx = RunContext(run_dir=tmp_path, task=task, config=config, llm=None,
                     trace=TraceWriter(tmp_path / "t.jsonl"), catalog=[])
    rows = [Example(input=f"train review number {i} {'good' if i % 2 else 'bad'}",
                    output=task.labels[i % 2], split="train", source={"kind": "test"})
            for i in range(40)]
    rows += [Example(input=f"test review {i}", output=task.labels[i % 2], split="test",
                     source={"kind": "test"}) for i in range(12)]
    ctx.store.add(rows)
    ctx.write_json("model_choice.json", {"name": "tiny", "path": str(tiny_model_dir)})
    train_tool(ctx)
    result = evaluate_tool(ctx)
    train_inputs = {r.input for r in rows if r.split == "train"}
    test_inputs = {r.input for r in rows if r.split == "test"}
    mined = ctx.read_json("failures.json")
    assert {f["input"] for f in mined} <= train_inputs
    assert {f["input"] for f in ctx.read_json("test_failures.json")} <= test_inputs
    assert result["n_failures"] == len(mined) and result["n_test_failures"] >= 1
    # With no validation mistake to imitate, error-driven generation falls back to plain rows.
    ctx.write_json("failures.json", [])
    ctx.llm = ScriptedLLM([{"purpose": "generate", "json": {"input": "fine film", "output": "positive"}}])
    out = generate_examples_tool(ctx, n=1, errors_only=True)
    assert out["error_driven"] is False and out["note"].startswith("no validation failures")


def test_rerank_plan_defaults_to_likelihood_locally_and_votes_with_an_endpoint():
    import pytest

    from p2m.core.config import DataConfig
    from p2m.tools.specs.search_datasets import rerank_plan

    class Fake:
        def __init__(self, backend, scores_replies):
            self.backend, self.scores_replies = backend, scores_replies

        def describe(self):
            return {"backend": self.backend}

    local, endpoint = Fake("local", True), Fake("openai", False)
    assert rerank_plan(DataConfig(), local) == ("likelihood", 0)
    assert rerank_plan(DataConfig(), endpoint) == ("vote", 3)
    assert rerank_plan(DataConfig(), None) == ("off", 0)
    assert rerank_plan(DataConfig(rerank_votes=1), local) == ("vote", 1)  # explicit votes win
    assert rerank_plan(DataConfig(rerank_votes=0), local) == ("off", 0)
    assert rerank_plan(DataConfig(rerank_votes=-1), endpoint) == ("off", 0)
    assert rerank_plan(DataConfig(rerank="vote"), local) == ("vote", 3)
    assert rerank_plan(DataConfig(rerank="off", rerank_votes=5), endpoint) == ("off", 0)
    with pytest.raises(ValueError, match="scores replies"):
        rerank_plan(DataConfig(rerank="likelihood"), endpoint)
    with pytest.raises(ValueError, match="data.rerank must be one of"):
        DataConfig(rerank="llm")

def test_a_generation_round_killed_before_its_progress_was_saved_keeps_its_rows_on_replay(tmp_path):
    from p2m.tools.specs.generate_examples import generate_examples as generate_examples_tool

    task = TaskSpec(instruction="Sentiment of a review", labels=["negative", "positive"])
    config = RunConfig()
    config.data.verify_votes = 0

    def script() -> ScriptedLLM:  # the same replies twice: a resumed run replays from its cache
        return ScriptedLLM([{"purpose": "attributes", "json": {"subjects": ["plot"]}}] * 2 +
                           [{"purpose": "generate", "json": {"input": f"review {i} of the film"}}
                            for i in range(8)])

    ctx = RunContext(run_dir=tmp_path, task=task, config=config, llm=script(),
                     trace=TraceWriter(tmp_path / "t.jsonl"), catalog=[])
    first = generate_examples_tool(ctx, n=8)
    rows = ctx.store.all()
    assert first["kept"] == 8 and len(rows) == 8
    # The kill: rows appended, data/generation.json not yet replaced.
    (tmp_path / "data" / "generation.json").unlink()
    ctx.llm = script()
    again = generate_examples_tool(ctx, n=8)
    assert again["kept"] == first["kept"] and again["label_counts"] == first["label_counts"]
    assert ctx.store.all() == rows and ctx.read_json("data/generation.json")["rounds"] == 1


def test_a_generation_round_reports_the_rows_cut_to_length(tmp_path):
    from p2m.tools.specs.generate_examples import generate_examples as generate_examples_tool

    task = TaskSpec(instruction="Sentiment of a review", labels=["negative", "positive"],
                    examples=[{"input": "Loved it.", "output": "positive"},
                              {"input": "Hated it.", "output": "negative"}])
    config = RunConfig()
    config.data.verify_votes = 0
    long = "The plot is thin. " + "And the acting drags on and on " * 5
    llm = ScriptedLLM([{"purpose": "attributes", "json": {"subjects": ["plot"]}}] * 2 +
                      [{"purpose": "generate", "json": {"input": long}},
                       {"purpose": "generate", "json": {"input": "a fine film overall"}}])
    ctx = RunContext(run_dir=tmp_path, task=task, config=config, llm=llm,
                     trace=TraceWriter(tmp_path / "t.jsonl"), catalog=[])
    summary = generate_examples_tool(ctx, n=2)
    assert summary["kept"] == 2 and summary["trimmed"] == 1
    assert "The plot is thin." in {e.input for e in ctx.store.all()}


def test_a_generation_round_killed_after_its_progress_was_saved_is_replayed_not_repeated(tmp_path):
    """The kill lands after data/generation.json but before the agent's checkpoint: the resumed
    step (same step number) replays its round instead of starting a new one."""
    from p2m.tools.specs.generate_examples import generate_examples as generate_examples_tool

    task = TaskSpec(instruction="Sentiment of a review", labels=["negative", "positive"])
    config = RunConfig()
    config.data.verify_votes = 0

    def script() -> ScriptedLLM:
        return ScriptedLLM([{"purpose": "attributes", "json": {"subjects": ["plot"]}}] * 2 +
                           [{"purpose": "generate", "json": {"input": f"review {i} of the film"}}
                            for i in range(8)])

    ctx = RunContext(run_dir=tmp_path, task=task, config=config, llm=script(),
                     trace=TraceWriter(tmp_path / "t.jsonl"), catalog=[], step=3)
    first = generate_examples_tool(ctx, n=8)
    rows = ctx.store.all()
    ctx.llm = script()
    again = generate_examples_tool(ctx, n=8)  # the same step, resumed
    assert again["kept"] == first["kept"] == 8 and ctx.store.all() == rows
    assert ctx.read_json("data/generation.json")["rounds"] == 1
    ctx.step, ctx.llm = 5, ScriptedLLM([{"purpose": "attributes", "json": {"subjects": ["cast"]}}] * 2 +
                                       [{"purpose": "generate", "json": {"input": f"a new take {i}"}}
                                        for i in range(8)])
    generate_examples_tool(ctx, n=8)  # a later step: a new round
    assert ctx.read_json("data/generation.json") == {"next_sample": 16, "rounds": 2, "step": 5,
                                                    "first_sample": 8}


def test_loading_again_after_a_kill_reports_the_rows_the_first_load_wrote(tmp_path, sst2_catalog):
    """A run killed after load_dataset appended its rows reruns the tool on resume: nothing is
    appended twice, and the result (which the planner reads) is the first load's."""
    config = RunConfig(catalog=[str(sst2_catalog)])
    config.data.max_train = 30
    task = TaskSpec(instruction="Movie review sentiment", labels=["negative", "positive"])
    ctx = RunContext(run_dir=tmp_path, task=task, config=config, llm=None,
                     trace=TraceWriter(tmp_path / "t.jsonl"), catalog=load_catalog([sst2_catalog]))
    first = load_dataset_tool(ctx, "sst2")
    rows = len(ctx.store.all())
    again = load_dataset_tool(ctx, "sst2")
    assert again == first and first["n_train"] > 0 and first["n_test"] > 0
    assert len(ctx.store.all()) == rows
