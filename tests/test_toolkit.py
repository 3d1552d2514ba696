"""Tools as plain functions on a run context: relabelling a dataset with another label scheme."""
from __future__ import annotations

from p2m.agent.context import RunContext
from p2m.agent.scripted_llm import ScriptedLLM
from p2m.agent.trace import TraceWriter
from p2m.config import RunConfig
from p2m.schemas import TaskSpec
from p2m.tools import datasets as ds
from p2m.tools.toolkit import load_dataset_tool

TASK = TaskSpec(instruction="Is the question about a person?", labels=["person", "other"])


def test_relabel_labels_real_inputs_in_the_task_scheme(tmp_path, sst2_catalog):
    config = RunConfig(catalog=[str(sst2_catalog)])
    config.data.relabel_max = 8
    replies = [{"purpose": "teacher", "json": {"label": "person" if i % 3 == 0 else "other"}}
               for i in range(10)]
    ctx = RunContext(run_dir=tmp_path, task=TASK, config=config, llm=ScriptedLLM(replies),
                     trace=TraceWriter(tmp_path / "t.jsonl"), catalog=ds.load_catalog([sst2_catalog]))
    trec = next(e for e in ctx.catalog if e.name == "trec")
    assert ds.relabel_candidate(trec, TASK)
    result = load_dataset_tool(ctx, "trec", relabel=True)
    assert result["relabelled"] == 10 and result["n_train"] == 8 and result["n_test"] == 2
    rows = ctx.store.all()
    assert {r.output for r in rows} == {"person", "other"}
    assert all(r.source["relabelled_by"] == "scripted" and r.source["original_label"] for r in rows)


def test_relabel_is_refused_without_an_llm(tmp_path, sst2_catalog):
    ctx = RunContext(run_dir=tmp_path, task=TASK, config=RunConfig(), llm=None,
                     trace=TraceWriter(tmp_path / "t.jsonl"), catalog=ds.load_catalog([sst2_catalog]))
    import pytest

    with pytest.raises(ds.DatasetError, match="needs an LLM"):
        load_dataset_tool(ctx, "trec", relabel=True)
