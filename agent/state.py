"""The agent's state: small, JSON-serialisable facts about the run, checkpointed every step."""
from __future__ import annotations

from typing import Any, Optional, TypedDict


class AgentState(TypedDict, total=False):
    searched: bool                 # search_datasets has run
    candidates: list[dict]         # its hits, with compatibility
    loaded: list[str]              # datasets loaded into the run
    rejected: dict[str, str]       # dataset name -> why it was rejected
    n_train: int                   # training rows in the store
    n_test: int                    # test rows in the store
    labelled_inputs: int           # the task's unlabelled texts label_inputs went through
    gen_rounds: int                # generate_examples calls that kept something
    empty_rounds: int              # generate_examples calls in a row that kept nothing
    last_round_s: float            # seconds the last generation round took
    model: Optional[dict]          # the ModelChoice
    trained_rows: int              # n_train when the current model was trained (-1: none)
    needs_eval: bool               # a model was trained and not yet evaluated
    evaluations: int               # evaluate calls so far (= iterations)
    history: list[dict]            # {"iteration", "name", "value", "n_train", "rows", ...} per evaluation
    failures: dict[str, int]       # tool -> consecutive failures
    steps: int                     # tool calls so far
    spent: dict[str, dict]         # tool -> {"runs", "llm_calls"} spent on it so far
    elapsed_s: float               # wall time spent, summed across resumes
    usage: dict[str, Any]          # LLM accounting snapshot, restored on resume
    llm_learned: dict[str, Any]    # what the LLM backend learned about its server, restored too
    proposal: Optional[dict]       # {"tool", "args", "reason", "by"} awaiting the guard
    last: Optional[dict]           # the last tool's {"tool", "summary"} for the planner
    stop_reason: Optional[str]
    done: bool


def initial_state() -> AgentState:
    return AgentState(searched=False, candidates=[], loaded=[], rejected={}, n_train=0, n_test=0,
                      labelled_inputs=0, gen_rounds=0, model=None, trained_rows=-1, needs_eval=False, evaluations=0, history=[],
                      failures={}, steps=0, spent={}, elapsed_s=0.0, usage={}, proposal=None, last=None,
                      stop_reason=None, done=False)
