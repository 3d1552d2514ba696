"""search_datasets: find catalog (or Hub) datasets that fit the task."""
from __future__ import annotations

from typing import Annotated, Any, Optional

from pydantic import Field

from p2m.runfolder.context import RunContext
from p2m.tools.retrieval import datasets as ds
from .base import MAX_TOOL_FAILURES, State, StateKey, Suggestion, ToolSpec
from p2m.tools.retrieval.hub import search_hub


def search_datasets(ctx: RunContext, query: Annotated[str, Field(
        description="what to look for; empty means the task instruction")] = "") -> dict[str, Any]:
    """Search the dataset catalog for data that fits the task."""
    data = ctx.config.data
    if ctx.config.hub:
        known = {e.name for e in ctx.catalog}
        ctx.catalog.extend(e for e in search_hub(ctx.task.instruction) if e.name not in known)
    mode, votes = rerank_plan(data, ctx.llm)
    # The task's instruction always takes part (ds.task_query): a planner's query only adds words.
    hits = ds.search_datasets(query, ctx.catalog, ctx.task,
                              llm=None if mode == "off" else ctx.llm, votes=votes,
                              expand=data.expand_query, rerank="vote" if mode == "off" else mode,
                              embedder=data.search_embedder)
    return {"candidates": hits, "rerank": mode, "rerank_votes": votes}


def rerank_plan(data: Any, llm: Any) -> tuple[str, int]:
    """(mode, votes) of the LLM rerank. Unset, it is "likelihood" for a backend that scores
    replies (the embedded model) and 3 votes for an endpoint; an explicit `rerank_votes` alone
    asks for votes (0: off)."""
    mode, votes = data.rerank, data.rerank_votes
    if llm is None or mode == "off":
        return "off", 0
    if mode is None:
        if votes is None and getattr(llm, "scores_replies", False):
            return "likelihood", 0
        mode = "vote"
    if mode == "likelihood":
        if not getattr(llm, "scores_replies", False):
            raise ValueError(f"data.rerank 'likelihood' needs a backend that scores replies "
                             f"(the embedded local model), not {llm.describe().get('backend')}")
        return "likelihood", 0
    votes = 3 if votes is None else max(0, votes)
    return ("vote", votes) if votes else ("off", 0)


def unavailable(state: State, ctx: RunContext) -> Optional[str]:
    if not ctx.catalog and not ctx.config.hub:
        return "no dataset catalog is configured"
    if state.get("searched"):
        return "the catalog was already searched"
    return None


def view(result: dict[str, Any]) -> str:
    return "candidates: " + ", ".join(f"{c['name']}{'' if c.get('compatible') else ' (unfit)'}"
                                      for c in result.get("candidates", []))


def fitting(candidates: list[dict], safe: Any) -> Optional[str]:
    names = [safe(c["name"]) for c in candidates if c.get("compatible")]
    return "fitting datasets: " + ", ".join(names) if names else None


def suggest(state: State, ctx: RunContext) -> Suggestion:
    if (ctx.catalog or ctx.config.hub) and not state.get("searched") and \
            state.get("failures", {}).get("search_datasets", 0) < MAX_TOOL_FAILURES:
        return {"query": ctx.task.instruction}, "look for existing data first"
    return None


STATE = {"searched": StateKey(False, "search_datasets has run", lambda v, safe: f"catalog searched: {bool(v)}"),
         "candidates": StateKey([], "its hits, with compatibility", fitting)}

SPEC = ToolSpec(name="search_datasets", run=search_datasets, unavailable=unavailable, state=STATE, suggest=suggest,
                update=lambda result, args, state, ctx: {"searched": True,
                                                         "candidates": result["candidates"]},
                view=view)
