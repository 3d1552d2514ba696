"""LLM rerank of retrieved candidates: by votes over sampled selections (Prompt2Model's
majority vote, widened from one choice to a selection), or, with the embedded model, by the
likelihood of the task given each candidate's card (UPR-style query likelihood)."""
from __future__ import annotations

from collections import Counter
from typing import Any, Sequence

import numpy as np

from pydantic import BaseModel, Field, create_model

from p2m.prompts import render

DESCRIPTION_CHARS = 300
MAX_CHOSEN = 10  # candidates one reply may select
REASON_CHARS = 300  # longest reason kept per pick
CARD_CHARS = 500  # description shown per candidate when scoring likelihood
LIKELIHOOD_WEIGHT = 0.5  # the likelihood's share of the fused score, the rest the retrieval rank's;
# chosen among 0.2-1.0 on the tuning queries (1.0, likelihood alone: recall@5 0.797 -> 0.715)
MIN_SPREAD = 1.0  # nats: likelihoods closer than this are not stretched over the whole scale


def _selection_model(names: Sequence[str]) -> type[BaseModel]:
    """The reply schema: the candidates that fit, best first. Names carry an enum and the list a
    length, so a backend that constrains decoding keeps to them; validation is looser (a stray
    name or an extra pick is dropped later), so one slip costs that pick, not the whole vote."""
    pick = create_model("DatasetPick",
                        name=(str, Field(description="a candidate's name",
                                         json_schema_extra={"enum": list(names)})),
                        reason=(str, Field(description="why it fits, one sentence",
                                           json_schema_extra={"maxLength": REASON_CHARS})))
    return create_model("DatasetSelection",
                        chosen=(list[pick],  # type: ignore[valid-type]
                                Field(description="every candidate that fits, best first",
                                      json_schema_extra={"maxItems": MAX_CHOSEN})))


def rerank_by_vote(llm: Any, task_text: str, groups: list[list[int]], catalog: Sequence[Any],
                   top_n: int = 20, votes: int = 3) -> tuple[list[list[int]], dict[int, dict[str, Any]]]:
    """Groups reordered by the LLM's votes: each of `votes` sampled replies selects the candidates
    among the first `top_n` groups that hold data for the task, best first; groups move up by the
    number of replies that selected them, then by their best place in a reply, then by retrieval
    order (Prompt2Model's majority vote, extended from one choice to a selection, since several
    datasets can serve a task and a single choice reorders only the first place or two).

    A reply that fails is skipped, so a flaky LLM can only leave the retrieval order as it was.
    Returns the new order and, per selected entry, {"votes", "reason"}.
    """
    shown = groups[:top_n]
    names = [catalog[g[0]].name for g in shown]
    listing = "\n".join(f"- {n}: {' '.join(catalog[g[0]].description.split())[:DESCRIPTION_CHARS]}"
                        for n, g in zip(names, shown))
    prompt = render("rerank_datasets", task=task_text, candidates=listing)
    model = _selection_model(names)
    tally: Counter[str] = Counter()
    best_place: dict[str, int] = {}
    reasons: dict[str, str] = {}
    for sample in range(votes):
        try:
            reply = llm.structured([{"role": "user", "content": prompt}], model, purpose="rerank",
                                   temperature=0.7 if votes > 1 else 0.0,
                                   max_tokens=60 * MAX_CHOSEN, sample=sample)
        except Exception:
            continue
        seen: set[str] = set()
        for pick in reply.chosen[:MAX_CHOSEN]:
            if pick.name not in names or pick.name in seen:
                continue  # a name that is no candidate, or one listed twice, counts once at most
            place = len(seen)
            seen.add(pick.name)
            tally[pick.name] += 1
            best_place[pick.name] = min(best_place.get(pick.name, place), place)
            reasons.setdefault(pick.name, pick.reason[:REASON_CHARS])
    position = {n: i for i, n in enumerate(names)}
    ranked = sorted(range(len(shown)), key=lambda i: (-tally[names[i]],
                                                      best_place.get(names[i], MAX_CHOSEN),
                                                      position[names[i]]))
    info = {shown[i][0]: {"votes": tally[names[i]], "reason": reasons[names[i]]}
            for i in ranked if tally[names[i]]}
    return [shown[i] for i in ranked] + groups[top_n:], info


def rerank_by_likelihood(llm: Any, task_text: str, groups: list[list[int]],
                         catalog: Sequence[Any], top_n: int = 20,
                         weight: float = LIKELIHOOD_WEIGHT) -> tuple[list[list[int]], dict[int, dict[str, Any]]]:
    """Groups reordered by how likely the LLM finds the task text as the instruction a model
    trained on each candidate serves: mean log-probability per token of `task_text` given the
    candidate's card (UPR, Sachan et al. 2022), scaled by its spread over the first `top_n`
    groups (at least MIN_SPREAD) and fused with their retrieval rank (`weight` on the
    likelihood, the rest on 1 - rank/top_n).

    For backends that score replies (`llm.scores_replies`): a small model's likelihoods rank
    better than its sampled choices. A candidate whose scoring fails keeps the lowest likelihood;
    if all fail, the retrieval order stands. Returns the new order and, per scored entry,
    {"likelihood", "reason"}.
    """
    shown = groups[:top_n]
    likelihood: list[float | None] = []
    for group in shown:
        entry = catalog[group[0]]
        prompt = render("rerank_likelihood", dataset=entry.name,
                        description=" ".join(entry.description.split())[:CARD_CHARS])
        try:
            likelihood.append(llm.continuation_logprob([{"role": "user", "content": prompt}],
                                                       task_text))
        except Exception:
            likelihood.append(None)
    got = [x for x in likelihood if x is not None]
    if not got:
        return groups, {}
    raw = np.array([min(got) if x is None else x for x in likelihood])
    # Scaled by the spread, floored: among a few near-equal candidates (a small catalog) plain
    # min-max turned a 0.03-nat difference into a full rank swap.
    scaled = (raw - raw.min()) / max(raw.max() - raw.min(), MIN_SPREAD)
    prior = 1.0 - np.arange(len(shown)) / top_n
    order = np.argsort(-((1 - weight) * prior + weight * scaled), kind="stable")
    info = {shown[i][0]: {"likelihood": round(float(likelihood[i]), 3),
                          "reason": f"the task's mean log-probability given this card is "
                                    f"{likelihood[i]:.2f} (best among candidates {raw.max():.2f})"}
            for i in order if likelihood[i] is not None}
    return [shown[i] for i in order] + groups[top_n:], info


class QueryExpansion(BaseModel):
    """What the LLM adds to a task description before searching (HyDE-style)."""

    task_name: str = Field(description="the task's standard name, e.g. natural language inference",
                           max_length=80)
    dataset_names: list[str] = Field(description="well-known datasets for the task", max_length=6)


def expand_query(llm: Any, task_text: str) -> str:
    """The task text followed by the LLM's task name and dataset names; the text alone on failure."""
    try:
        out = llm.structured([{"role": "user", "content": render("expand_query", task=task_text)}],
                             QueryExpansion, purpose="expand_query", max_tokens=120)
    except Exception:
        return task_text
    names = " ".join(n for n in out.dataset_names if len(n) < 60)
    return f"{task_text} {out.task_name} {names}".strip()
