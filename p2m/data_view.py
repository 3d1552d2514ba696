"""`p2m data RUN`: the run's rows with their provenance, filtered like a table (issue 36 item 2);
`--dropped`: the rows generation wrote and dropped, with the reason."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from .rundir import RunDir

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


def browse(run_dir: str | Path, split: Optional[str] = None, source: Optional[str] = None,
           output: Optional[str] = None, dropped: bool = False, limit: Optional[int] = None) -> list[dict[str, Any]]:
    """Rows (or the dropped rows) matching every filter given: split, source kind (user, dataset,
    generated, unlabelled...), output; in the order they were added."""
    store = RunDir(run_dir).require().store
    rows = store.dropped() if dropped else store.all()
    out = []
    for i, e in enumerate(rows):
        if (split and e.split != split) or (source and e.source.get("kind") != source) or \
                (output is not None and e.output != output):
            continue
        out.append({"n": i, "split": e.split, "kind": e.source.get("kind"), "input": e.input,
                    "output": e.output, "provenance": provenance(e.source)})
        if limit is not None and len(out) >= limit:
            break
    return out
