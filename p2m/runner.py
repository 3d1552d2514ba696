"""The library API behind the CLI: create a run, run or resume it, read its results."""
from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any, Optional

from p2m.llm.accounting import Usage
from p2m.llm.cache import ResponseCache
from p2m.runfolder.context import RunContext
from p2m.llm.factory import make_llm, teacher_spec
from p2m.llm.llm import LLM
from p2m.runfolder.trace import TraceWriter
from p2m.core.config import RunConfig
from p2m.runfolder.rundir import RunDir, RunError
from p2m.core.schemas import TaskSpec
from p2m.runfolder.data_store import read_labelled, user_rows
from p2m.tools.retrieval.catalog import load_catalog
from p2m.tools.data.task import load_task_file, parse_task, read_prompt, read_unlabelled, task_from_dict
from p2m.tools.retrieval.models import choose_model
from p2m.agent.state import initial_state
from p2m.runfolder.run_files import CHAT, CHECKPOINTS, LLM_CACHE

__all__ = ["RunError", "create_run", "execute", "open_context", "resume", "start"]


def default_run_dir(root: str | Path = "runs") -> Path:
    import time

    return Path(root) / time.strftime("run-%Y%m%d-%H%M%S")


def check_run_name(out: str | Path) -> Path:
    """A run directory path; names that climb out of their parent ('..') are refused."""
    path = Path(out)
    if any(part == ".." for part in path.parts):
        raise RunError(f"run directory {out!r} must not contain '..'")
    if not re.fullmatch(r"[\w./ -]+", str(out)):
        raise RunError(f"run directory {out!r} has characters outside letters, digits, '._- /'")
    return path


def make_run_llm(config: RunConfig, run_dir: Optional[Path]) -> Optional[LLM]:
    llm = make_llm(config.llm, usage=Usage(), max_calls=config.budget.max_llm_calls)
    if llm is not None and run_dir is not None:
        llm.cache = ResponseCache(run_dir / LLM_CACHE)
    return llm


def make_run_teacher(config: RunConfig, llm: Optional[LLM]) -> Optional[LLM]:
    """The teacher when it is another model than the run's LLM (same budget, usage and cache)."""
    if llm is None or not config.teacher or config.teacher == config.llm:
        return None
    teacher = make_llm(config.teacher, usage=llm.usage, max_calls=config.budget.max_llm_calls)
    if teacher is not None:
        teacher.cache = llm.cache
    return teacher


def create_run(task: TaskSpec, config: RunConfig, out: str | Path) -> Path:
    """Lay out a new run directory: task.json, config.json, data/ with the user's examples."""
    run_dir = check_run_name(out)
    run = RunDir(run_dir).require_new()
    # Everything that can be checked up front is checked before anything is written.
    if config.model:
        choose_model(task, config.model)  # ModelChoiceError: missing, or wrong for the task family
    for source in config.catalog:
        if not Path(source).exists():
            raise FileNotFoundError(f"catalog not found: {source}")
    if not task.test and not config.test_file and len(task.examples) < 2 and not config.catalog \
            and not config.hub:
        raise RunError("nothing to score the model on: give at least two demonstrations, or gold "
                       "test rows (--test FILE.jsonl, or `test:` in the task file), or a --catalog "
                       "whose dataset brings its own test split")
    if config.test_file:
        config.test_file = str(Path(config.test_file).resolve())
        read_labelled(config.test_file, task, kind="user_test")  # unreadable or off-label: refused now
    if config.llm not in (None, "none"):
        config.teacher = teacher_spec(config.llm, config.teacher)  # fixed now: a resume keeps it
    run.create(task, config)
    return run_dir


def record_conversation(ctx: RunContext, revisions: list[dict[str, Any]],
                        transcript: Optional[list[dict[str, str]]] = None) -> None:
    """The conversation that set the task (p2m chat / ui): RUN/chat.json, and each revision of
    the task as a `task_revision` event in the trace."""
    ctx.write_json(CHAT, {"transcript": transcript or [], "revisions": revisions})
    for i, rev in enumerate(revisions, 1):
        ctx.trace.write("chat", "task_revision", summary={
            "revision": i, "message": rev["message"][:300], "labels": rev["task"].get("labels"),
            "task_type": rev["task"].get("task_type"), "target": rev["task"].get("target")})


def open_context(run_dir: str | Path, progress: bool = True, llm: Optional[LLM] = None) -> RunContext:
    """The RunContext of an existing run directory (LLM, catalog and trace made once here)."""
    run = RunDir(run_dir).require()
    run_dir, task, config = run.path, run.task(), run.config()
    if llm is None:
        llm = make_run_llm(config, run_dir)
    elif llm.cache is None:
        llm.cache = ResponseCache(run_dir / LLM_CACHE)
    # Hub datasets downloaded by this run live in RUN/hub_datasets: a resumed run finds them again.
    sources = list(config.catalog) + ([run_dir / "hub_datasets"] if (run_dir / "hub_datasets").is_dir() else [])
    catalog = load_catalog(sources) if sources else []
    teacher = make_run_teacher(config, llm)
    for model in (llm, teacher):
        if model is not None and not config.data.teacher_scoring:
            model.scores_labels = False  # JSON answers, as before scoring (DataConfig.teacher_scoring)
    return RunContext(run_dir=run_dir, task=task, config=config, llm=llm,
                      trace=TraceWriter(run.trace_path), catalog=catalog, progress=progress,
                      teacher_llm=teacher)


def execute(ctx: RunContext) -> dict[str, Any]:
    """Run the graph to the end, continuing from the last checkpoint when there is one; one
    process at a time (`RunDir.lock`)."""
    with ctx.run.lock():
        return _execute(ctx)


def _execute(ctx: RunContext) -> dict[str, Any]:
    from p2m.graph.graph import THREAD, build_graph, sqlite_checkpointer

    path = ctx.path(CHECKPOINTS)
    graph = build_graph(ctx, sqlite_checkpointer(path))
    try:
        snapshot = graph.get_state(THREAD)
    except sqlite3.DatabaseError as exc:
        raise RunError(f"{path} is unreadable ({exc}). To go on, move it aside "
                       f"(mv {path} {path}.bad) and resume: the run's steps start again on the data "
                       f"it kept, with the LLM replies it cached") from None
    limit = {"recursion_limit": 4 * ctx.config.budget.max_steps + 20, **THREAD}
    if snapshot.values:
        if ctx.llm is not None:
            ctx.llm.usage.load(snapshot.values.get("usage"))
            ctx.llm.relearn(snapshot.values.get("llm_learned"))
        # Finished runs have no task left. A run killed mid-step can show no `next` while the
        # step's node already saved its writes (they are in `tasks`): that one must go on.
        finished = ctx.run.report() if not snapshot.next and not snapshot.tasks else None
        if finished is not None:
            return finished
        ctx.trace.write("runner", "resume",
                        summary={"next": list(snapshot.next) or [t.name for t in snapshot.tasks]},
                        iteration=snapshot.values.get("evaluations", 0))
        graph.invoke(None, limit, durability="sync")
    else:
        ctx.store.add(user_rows(ctx.task, ctx.config.test_file))
        counts = ctx.store.counts()
        ctx.trace.write("runner", "start", summary={"task": ctx.task.model_dump(),
                                                   "llm": ctx.llm.describe() if ctx.llm else None})
        ctx.run.save_step(0)  # a fork at step 1 starts from here
        # durability="sync": each step's checkpoint is on disk before the next step starts, so
        # a kill -9 loses at most the step that was running.
        graph.invoke({**initial_state(), "n_train": counts["train"], "n_test": counts["test"]}, limit,
                     durability="sync")
    return ctx.run.report()


def start(prompt: Optional[str], task_file: Optional[str], config: RunConfig, out: str | Path,
          progress: bool = True, unlabelled_file: Optional[str] = None) -> dict[str, Any]:
    """Read the task (file, or free text through the LLM) and any unlabelled texts, create the
    run and execute it."""
    run_dir = check_run_name(out)
    RunDir(run_dir).require_new()
    texts = read_unlabelled(unlabelled_file) if unlabelled_file else []  # a bad file: refused now
    llm = None
    if task_file:
        task = load_task_file(task_file)
    else:
        llm = make_run_llm(config, None)
        task = parse_task(read_prompt(prompt or ""), llm)  # the CLI's user may name a file
    if texts:
        task = task_from_dict({**task.model_dump(), "unlabelled": task.unlabelled + texts},
                              origin=str(unlabelled_file))
    create_run(task, config, run_dir)
    return execute(open_context(run_dir, progress=progress, llm=llm))


def resume(run_dir: str | Path, progress: bool = True) -> dict[str, Any]:
    return execute(open_context(run_dir, progress=progress))
