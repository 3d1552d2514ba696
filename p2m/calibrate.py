"""`p2m calibrate RUN`: fit the cascade's threshold on more held-out texts than the run could
label. A run holds out every 5th text the teacher labelled; the 2% bound needs at least 149
rows answered alone, so a run that labelled 300 texts (60 held out) shows no threshold. This
labels more of the user's texts the model never saw (the task's unlabelled texts past those the
run used, or `--file`), with the run's teacher, and refits on them plus the run's own held-out
rows. Labels already asked are kept in RUN/calibration.json and never asked again."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from p2m.llm.factory import run_teacher
from p2m.runfolder.rundir import RunDir, RunError
from p2m.tools.scoring.assess import is_gold
from p2m.tools.scoring.cascade import calibrate, confident, save_threshold
from p2m.runfolder.data_store import normalize
from p2m.tools.scoring.predictions import teacher_distributions, top_label
from p2m.runfolder.run_files import CALIBRATION, UNLABELLED


def calibration_texts(run: RunDir, texts: Optional[list[str]], n: int) -> list[str]:
    """Up to `n` texts the model never trained or validated on: `texts`, else the task's
    unlabelled texts past those the run labelled."""
    if texts is None:
        used = int((run.read_json(UNLABELLED) or {}).get("labelled_up_to", 0))
        texts = run.task().unlabelled[used:]
    seen = run.store.seen_inputs() | {normalize(d.input) for d in run.task().examples}
    out, taken = [], set()
    for text in texts:
        key = normalize(text)
        if key and key not in seen and key not in taken:
            out.append(text)
            taken.add(key)
        if len(out) >= n:
            break
    return out


def calibrate_run(run_dir: str | Path, texts: Optional[list[str]] = None, n: int = 500,
                  teacher: Optional[Any] = None) -> dict[str, Any]:
    """Label up to `n` held-out texts with the run's teacher, refit the published model's
    threshold on them and the run's held-out validation rows, save it (cascade.json and the
    model card); the fitted threshold with its figures."""
    run = RunDir(run_dir).require()
    model_dir, task, config = run.require_model(), run.task(), run.config()
    if not task.label_set:
        raise RunError(f"{run.path}: the cascade serves label-set tasks; this one is {task.task_type}")
    saved = run.read_json(CALIBRATION, [])
    if not isinstance(saved, list) or not all(isinstance(r, dict) and isinstance(r.get("input"), str)
                                              and isinstance(r.get("label"), str) for r in saved):
        raise RunError(f"{run.file(CALIBRATION)}: not a list of {{input, label}} rows; move it aside to start over")
    known: dict[str, str] = {row["input"]: row["label"] for row in saved}
    fresh = [t for t in calibration_texts(run, texts, n) if t not in known]
    if fresh:
        if teacher is None:
            teacher = run_teacher(config)
        if teacher is None:
            raise RunError(f"{run.path}: the run has no LLM (--llm none): no teacher to label with")
        for text, dist in zip(fresh, teacher_distributions(teacher, task, fresh)):
            if dist:
                known[text] = top_label(dist)
        run.write_json(CALIBRATION, [{"input": t, "label": label} for t, label in known.items()])
    held = [e for e in run.store.split("validation") if not is_gold(e)]
    inputs = [e.input for e in held] + list(known)
    wanted = [e.output for e in held] + list(known.values())
    labels, conf = confident(model_dir, inputs)
    fitted = calibrate(conf, [p == w for p, w in zip(labels, wanted)], config.data.route_budget)
    fitted["calibration_rows"] = (f"{len(held)} held-out validation rows the teacher wrote or labelled, "
                                  f"{len(known)} texts labelled by p2m calibrate (none trained on)")
    save_threshold(model_dir, fitted)
    return fitted
