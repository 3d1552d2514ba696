"""Fork a run from any step: a new run that starts from that step's checkpoint and files.

`fork_run(RUN, at=N, out=NEW)` gives NEW the state RUN had before planner step N (after step N-1):
LangGraph's checkpoint of that moment (the checkpoint history is copied and a new head written
on it), the files the tools had written then (`RunDir.save_step`), the rows, dropped rows and
trace up to then, the models they name (hard links, not copies) and the LLM reply cache. Then it
may change the task (more demonstrations, renamed labels, new test rows), the settings
(`budget.max_iterations=3`) or the next decision (`then=("train", {})`). Nothing before step N
runs again, so no earlier LLM call is repeated; the new trace says where it forked from. RUN is
never changed.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
from pathlib import Path
from typing import Any, Iterable, Optional

from p2m.runfolder.context import RunContext
from p2m.runfolder.trace import TraceWriter, read_trace
from p2m.core.config import RunConfig
from p2m.runfolder.rundir import APPEND_ONLY, MODEL_EXTRAS, STEPS, RunDir, RunError
from p2m.runner import check_run_name
from p2m.core.schemas import Example, TaskSpec
from p2m.runfolder.data_store import user_rows
from p2m.tools.specs import REGISTRY
from p2m.runfolder.run_files import CHECKPOINTS, CONFIG, LLM_CACHE, MODEL, SELECTION, STEP, TEACHER

USER_KINDS = ("user", "user_test")  # rows the task itself gives: replaced by the forked task's


ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "last": -1}
ROUND_TOOLS = ("generate_examples", "label_inputs", "load_dataset")  # what a "round" of data is


def fork_point(run_dir: str | Path, where: str | int) -> int:
    """The step a fork starts before, from a number or words: "5", "step 5", "before the second
    round" (the k-th data round: generate_examples, label_inputs or load_dataset), "the last round",
    "the second training", "the end". ValueError naming what it could not read."""
    if isinstance(where, int) or str(where).strip().isdigit():
        return int(where)
    text = str(where).lower()
    decisions = [e for e in read_trace(RunDir(run_dir).trace_path) if e["kind"] == "decision"]
    if re.search(r"\b(the )?end\b", text):
        return len(decisions) + 1
    step = re.search(r"\bstep (\d+)\b", text)
    if step:
        return int(step.group(1))
    which = re.search(r"\b(\d+)(?:st|nd|rd|th)?\b|\b(" + "|".join(ORDINALS) + r")\b", text)
    kind = "train" if re.search(r"\btrain", text) else "evaluate" if re.search(r"\b(evaluat|scor)", text) \
        else "round" if re.search(r"\bround\b", text) else "step" if re.search(r"\bstep\b", text) else None
    if kind == "step" and which is not None and which.group(2) and which.group(2) != "last":
        return ORDINALS[which.group(2)]  # "the second step"
    if kind in (None, "step") or which is None:
        raise ValueError(f"--at {where!r}: say a step number, 'step N', 'before the second round', "
                         "'before the first training' or 'the end'")
    k = int(which.group(1)) if which.group(1) else ORDINALS[which.group(2)]
    tools = ROUND_TOOLS if kind == "round" else (kind,)
    steps = [i + 1 for i, e in enumerate(decisions) if e.get("tool") in tools]
    if not steps or abs(k) > len(steps) or k == 0:
        raise ValueError(f"--at {where!r}: the run has {len(steps)} {'data round' if kind == 'round' else kind} "
                         f"step(s)")
    return steps[k - 1] if k > 0 else steps[k]


def set_option(config: dict[str, Any], setting: str) -> dict[str, Any]:
    """`budget.max_iterations=3` applied to a RunConfig dict (the value read as JSON when it
    parses, else as text); ValueError naming the setting when the key does not exist."""
    key, sep, raw = setting.partition("=")
    if not sep or not key:
        raise ValueError(f"--set {setting!r}: expected KEY=VALUE, e.g. budget.max_iterations=3")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    node = config
    parts = key.split(".")
    for part in parts[:-1]:
        if not isinstance(node.get(part), dict):
            raise ValueError(f"--set {key}: no setting {part!r} (sections: "
                             f"{', '.join(k for k, v in config.items() if isinstance(v, dict))})")
        node = node[part]
    if parts[-1] not in node:
        raise ValueError(f"--set {key}: no setting {parts[-1]!r} here (known: {', '.join(sorted(node))})")
    node[parts[-1]] = value
    return config


def _link_tree(src: Path, dest: Path) -> None:
    """Copy a folder as hard links (a model is hundreds of MB), copies across file systems."""
    def link(a: str, b: str) -> None:
        try:
            os.link(a, b)
        except OSError:
            shutil.copy2(a, b)

    shutil.copytree(src, dest, copy_function=link, dirs_exist_ok=True)


def _copy_sqlite(src: Path, dest: Path) -> None:
    """A consistent copy of an SQLite file (its WAL included), through SQLite's backup API."""
    if not src.exists():
        return
    with sqlite3.connect(str(src)) as a, sqlite3.connect(str(dest)) as b:
        a.backup(b)


def _rebase(value: Any, prefixes: list[str], new: str) -> Any:
    """Every string that names a path inside the source run, renamed into the new run."""
    if isinstance(value, str):
        for prefix in prefixes:
            if value == prefix or value.startswith(prefix + "/"):
                return new + value[len(prefix):]
        return value
    if isinstance(value, list):
        return [_rebase(v, prefixes, new) for v in value]
    if isinstance(value, dict):
        return {k: _rebase(v, prefixes, new) for k, v in value.items()}
    return value


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)


def _restore_files(src: RunDir, dest: RunDir, step_dir: Path) -> list[str]:
    """The step's JSON files into `dest`, paths renamed; the training folders and the published
    model they name, linked. Returns the training folders restored."""
    prefixes = sorted({str(src.path), str(src.path.resolve())}, key=len, reverse=True)
    new = str(dest.path.resolve())
    trainings: set[str] = set()
    for saved in step_dir.iterdir():
        if saved.name == STEP:
            continue
        rel = saved.name.replace("__", "/")
        target = dest.file(rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        if saved.suffix != ".json":
            shutil.copy2(saved, target)
            continue
        value = json.loads(saved.read_text(encoding="utf-8"))
        for text in _strings(value):
            for prefix in prefixes:
                if text.startswith(prefix + "/train/"):
                    trainings.add(text[len(prefix) + 7:].split("/")[0])
        target.write_text(json.dumps(_rebase(value, prefixes, new), indent=2), encoding="utf-8")
    for name in sorted(trainings):  # later trainings are left behind: a fork may train the same rows anew
        if src.file("train", name).is_dir():
            _link_tree(src.file("train", name), dest.file("train", name))
    for folder in ("baseline", "hub_datasets"):
        if src.file(folder).is_dir():
            _link_tree(src.file(folder), dest.file(folder))
    published = ((dest.read_json(SELECTION) or {}).get("published") or {}).get("path")
    if published and Path(published).is_dir():
        _link_tree(Path(published), dest.model_dir)
        for name in MODEL_EXTRAS:
            if (step_dir / f"{MODEL}__{name}").is_file():
                shutil.copy2(step_dir / f"{MODEL}__{name}", dest.file(MODEL, name))
    return sorted(trainings)


def _copy_prefix(src: Path, dest: Path, length: int) -> None:
    """The first `length` bytes of an append-only file: what it held after the step."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    if not src.exists():
        return
    with open(src, "rb") as f:
        dest.write_bytes(f.read(length))


def _rows_for(task: TaskSpec, old: TaskSpec, rows: list[Example], config: RunConfig
              ) -> tuple[list[Example], list[Example], dict[str, Any]]:
    """The forked run's rows: the task's own rows (demonstrations, test rows) replaced by the new
    task's, labels renamed position by position when the new label list renames the old one, and
    rows whose label the new task no longer has dropped. (rows, dropped, what changed)."""
    rename: dict[str, str] = {}
    if old.labels and task.labels and old.labels != task.labels:
        if len(old.labels) == len(task.labels):
            rename = {a: b for a, b in zip(old.labels, task.labels) if a != b}
    kept, dropped = [], []
    for row in rows:
        if row.source.get("kind") in USER_KINDS:
            continue
        if row.output in rename:
            row = row.model_copy(update={"output": rename[row.output],
                                         "source": {**row.source, "renamed_from": row.output}})
        if task.label_set and row.output not in task.label_set:
            dropped.append(row.model_copy(update={"source": {
                **row.source, "drop_reason": f"label {row.output!r} is not one of the forked task's labels"}}))
            continue
        kept.append(row)
    mine = user_rows(task, config.test_file)
    change = {"demonstrations": [len(old.examples), len(task.examples)], "test_rows": [len(old.test), len(task.test)],
              "renamed_labels": rename, "rows_dropped": len(dropped)}
    return mine + kept, dropped, change


def _checkpoint_at(graph: Any, step: int) -> Any:
    """The newest checkpoint taken right after `step` tool calls had run (the planner next, or
    the report when that step ended the run)."""
    from p2m.graph.graph import THREAD

    for snapshot in graph.get_state_history(THREAD):
        if snapshot.values.get("steps") == step and tuple(snapshot.next) in (("planner",), ("report",)):
            return snapshot
    raise RunError(f"no checkpoint of the run right after step {step}")


def fork_run(source: str | Path, at: int, out: str | Path, task: Optional[TaskSpec] = None,
             settings: Iterable[str] = (), then: Optional[tuple[str, dict[str, Any]]] = None) -> Path:
    """Create NEW as RUN was before planner step `at` (1-based, as `p2m trace --step`), with the
    task, settings and next decision changed as asked; `runner.resume(NEW)` runs it on."""
    src = RunDir(source).require()
    dest = RunDir(check_run_name(out)).require_new()
    if dest.path.exists() and any(dest.path.iterdir()):
        raise RunError(f"{dest.path} is a folder with files in it: fork into a new folder")
    saved = src.saved_steps()
    if not saved:
        raise RunError(f"{src.path} kept no steps to fork from: it was made by a p2m before `p2m fork`")
    if at < 1 or at - 1 not in saved:
        raise RunError(f"step {at}: {src.path} can be forked at steps 1 to {saved[-1] + 1} "
                       f"(step N starts from the run as it was after step N-1)")
    if then is not None and then[0] not in REGISTRY:
        raise RunError(f"--then {then[0]!r}: no such tool (tools: {', '.join(sorted(REGISTRY))})")
    old_task, config_dict = src.task(), src.read_json(CONFIG, {})
    for setting in settings:
        set_option(config_dict, setting)
    try:
        config = RunConfig.from_dict(json.loads(json.dumps(config_dict)))
    except (TypeError, ValueError) as exc:
        raise RunError(f"--set: {exc}") from None
    task = task or old_task
    if task.task_type != old_task.task_type:
        raise RunError(f"the forked task is {task.task_type}, the run's is {old_task.task_type}: "
                       "a task of another family is a new run (p2m run)")
    step_dir = src.file(STEPS, str(at - 1))
    lengths = json.loads((step_dir / STEP).read_text(encoding="utf-8"))["lengths"]
    dest.create(task, config)
    try:
        for name in APPEND_ONLY:
            _copy_prefix(src.file(name), dest.file(name), lengths[name])
        trainings = _restore_files(src, dest, step_dir)
        rows, dropped, change = _rows_for(task, old_task, dest.store.all(), config)
        dest.file("data/examples.jsonl").write_bytes(b"")
        store = dest.store
        store.add(rows)
        store.add_dropped(dropped)
        for name in (LLM_CACHE, CHECKPOINTS):
            _copy_sqlite(src.file(name), dest.file(name))
        if change["demonstrations"][0] != change["demonstrations"][1] or change["renamed_labels"]:
            dest.file(TEACHER).unlink(missing_ok=True)  # its prompt showed the old demonstrations
        # the graph is only written to here, never run: no LLM is made
        ctx = RunContext(run_dir=dest.path, task=task, config=config, llm=None,
                         trace=TraceWriter(dest.trace_path), progress=False)
        head = _new_head(ctx, at - 1, then)
        counts = ctx.store.counts()
        ctx.trace.write("runner", "fork", summary={
            "from": str(src.path), "at_step": at, "checkpoint_id": head, "task": change,
            "set": list(settings), "then": {"tool": then[0], "args": then[1]} if then else None,
            "trainings_kept": trainings, "rows": counts})
        if then is not None:  # the step it decides is the user's: `p2m trace --step` shows it so
            ctx.trace.write("fork", "decision", tool=then[0], args=then[1], reason="the user's choice at the fork",
                            summary={"by": "user"})
        ctx.run.save_step(at - 1)
    except BaseException:
        shutil.rmtree(dest.path, ignore_errors=True)  # a half-made fork is no run: nothing else is touched
        raise
    return dest.path


def _new_head(ctx: Any, step: int, then: Optional[tuple[str, dict[str, Any]]]) -> str:
    """Write the fork's first checkpoint on the one after `step`: the rows as the forked store
    holds them, the run not done, and the next decision when one was given."""
    from p2m.graph.graph import build_graph, sqlite_checkpointer

    graph = build_graph(ctx, sqlite_checkpointer(ctx.path(CHECKPOINTS)))
    base = _checkpoint_at(graph, step)
    counts = ctx.store.counts()
    patch: dict[str, Any] = {"done": False, "stop_reason": None, "n_train": counts["train"],
                             "n_test": counts["test"], "proposal": None}
    if then is None:
        config = graph.update_state(base.config, patch, as_node="act")
    else:
        patch["proposal"] = {"tool": then[0], "args": then[1], "reason": "the user's choice at the fork",
                             "by": "user"}
        config = graph.update_state(base.config, patch, as_node="planner")
    return config["configurable"]["checkpoint_id"]
