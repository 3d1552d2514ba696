"""`p2m data RUN`: the run's rows with their provenance, filtered like a table (issue 36 item 2);
`--dropped`: the rows generation wrote and dropped, with the reason."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from p2m.runfolder.rundir import RunDir

SHOWN_SOURCE = ("name", "row", "model", "sample", "conditioned_on", "error_driven", "fold", "relabelled_by",
                "original_label", "agreement", "drop_reason")


def provenance(source: dict[str, Any]) -> dict[str, Any]:
    """The source fields a reader needs, and the teacher's most probable labels when scored."""
    out = {k: source[k] for k in SHOWN_SOURCE if k in source}
    probs = source.get("teacher_probs")
    if isinstance(probs, dict) and probs:
        top = sorted(probs.items(), key=lambda kv: -kv[1])[:3]
        out["teacher_probs"] = {k: round(float(v), 3) for k, v in top}
    return out


def added_by_step(run: RunDir, dropped: bool = False) -> list[Optional[int]]:
    """For each row (or dropped row), the step that added it (0: the run's start, the user's
    rows), read from the byte lengths each step kept (`RunDir.save_step`); None where no step
    was kept (a run made before they were)."""
    name = "data/dropped.jsonl" if dropped else "data/examples.jsonl"
    path = run.file(name)
    if not path.exists():
        return []
    ends = []
    for k in run.saved_steps():
        try:
            ends.append((run.read_json(f"steps/{k}/step.json")["lengths"][name], k))
        except (TypeError, KeyError):
            continue
    steps: list[Optional[int]] = []
    offset = 0
    with open(path, "rb") as f:
        for line in f:
            offset += len(line)
            if line.strip():
                steps.append(next((k for end, k in ends if offset <= end), None))
    return steps


def browse(run_dir: str | Path, split: Optional[str] = None, source: Optional[str] = None,
           output: Optional[str] = None, dropped: bool = False, limit: Optional[int] = None,
           step: Optional[int] = None) -> list[dict[str, Any]]:
    """Rows (or the dropped rows) matching every filter given: split, source kind (user, dataset,
    generated, unlabelled...), output, the step that added them; in the order they were added."""
    run = RunDir(run_dir).require()
    store = run.store
    rows = store.dropped() if dropped else store.all()
    by_step = added_by_step(run, dropped)
    by_step = by_step if len(by_step) == len(rows) else [None] * len(rows)  # a torn line: steps unknown
    out = []
    for i, e in enumerate(rows):
        if (split and e.split != split) or (source and e.source.get("kind") != source) or \
                (output is not None and e.output != output) or (step is not None and by_step[i] != step):
            continue
        out.append({"n": i, "split": e.split, "kind": e.source.get("kind"), "step": by_step[i], "input": e.input,
                    "output": e.output, "provenance": provenance(e.source)})
        if limit is not None and len(out) >= limit:
            break
    return out
