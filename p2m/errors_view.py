"""`p2m errors RUN`: what the published model gets wrong on the gold test rows, beside the teacher
(issue 36 item 3). For a label set: per class, the student's confusion matrix, and on the rows the
teacher answered, where the two disagree and who was right. For the other families: the worst
rows by the family's own similarity (chrF++, token F1, entity F1)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from p2m.runfolder.rundir import RunDir, RunError
from p2m.tools.families.classification.metric import classification_metrics
from p2m.tools.generation.verify import similarity
from p2m.runfolder.run_files import SELECTION

WORST = 20


def predictions(run: RunDir) -> tuple[dict[str, Any], str]:
    """The gold rows' predictions of the published student's iteration (else the latest), and
    which model they are."""
    published = (run.read_json(SELECTION) or {}).get("published") or {}
    folder = run.file("predictions")
    files = sorted(folder.glob("iteration-*.json"), key=lambda p: int(p.stem.split("-")[1])) if folder.is_dir() else []
    if not files:
        raise RunError(f"{run.path}: no predictions on gold rows yet (they are written when a model is scored)")
    wanted = run.file("predictions", f"iteration-{published.get('iteration')}.json")
    if published.get("kind") == "student" and wanted in files:
        return run.read_json(str(wanted.relative_to(run.path))), f"the published student (iteration {published['iteration']})"
    latest = files[-1]
    which = "the latest trained student" + (" (the demonstrations-only baseline is published)"
                                            if published.get("kind") == "baseline" else "")
    return run.read_json(str(latest.relative_to(run.path))), which


def errors(run_dir: str | Path, worst: int = WORST) -> dict[str, Any]:
    """The published model's errors on the gold rows, beside the teacher's answers."""
    run = RunDir(run_dir).require()
    task = run.task()
    data, which = predictions(run)
    rows = data["rows"]
    out: dict[str, Any] = {"model": which, "source": data.get("source"), "n": len(rows)}
    asked = [r for r in rows if r.get("teacher") is not None]
    if not task.label_set:
        scored = sorted(rows, key=lambda r: similarity(task, r["student"], r["gold"]))[:worst]
        out["worst"] = [{**r, "similarity": round(similarity(task, r["student"], r["gold"]), 3)} for r in scored]
        return out
    labels = list(task.label_set)
    out["per_class"] = {label: {"support": sum(r["gold"] == label for r in rows),
                                "student_right": sum(r["gold"] == label == r["student"] for r in rows),
                                "teacher_right": sum(r["gold"] == label == r["teacher"] for r in asked),
                                "teacher_asked": sum(r["gold"] == label for r in asked)} for label in labels}
    confusion = classification_metrics([r["student"] for r in rows], [r["gold"] for r in rows], labels).confusion
    out["confusion"] = {"labels": labels, "rows_gold_columns_predicted":
                        [[confusion[g][p] for p in labels] for g in labels]}
    disagree = [r for r in asked if r["student"] != r["teacher"]]
    out["against_teacher"] = {
        "rows": len(asked), "disagree": len(disagree),
        "student_right": sum(r["student"] == r["gold"] for r in disagree),
        "teacher_right": sum(r["teacher"] == r["gold"] for r in disagree),
        "both_wrong": sum(r["gold"] not in (r["student"], r["teacher"]) for r in disagree)}
    mistakes = [r for r in rows if r["student"] != r["gold"]]
    out["mistakes"] = [{**r, "who_was_right": who(r)} for r in mistakes[:worst]]
    return out


def who(row: dict[str, Any]) -> str:
    if row.get("teacher") is None:
        return "the teacher was not asked"
    if row["teacher"] == row["gold"]:
        return "the teacher"
    return "neither"


def render(run_dir: str | Path, worst: int = WORST) -> list[str]:
    """The errors as lines of text."""
    e = errors(run_dir, worst)
    lines = [f"{e['model']} on {e['n']} gold rows ({e['source']})"]
    if "worst" in e:
        lines += [f"  {r['similarity']:.3f}  {r['input'][:70]!r} -> {r['student'][:50]!r} (gold {r['gold'][:50]!r}, "
                  f"teacher {str(r.get('teacher'))[:50]!r})" for r in e["worst"]]
        return lines
    lines.append("per class: " + "; ".join(
        f"{label} {c['student_right']}/{c['support']}" + (f" (teacher {c['teacher_right']}/{c['teacher_asked']})"
                                                          if c["teacher_asked"] else "")
        for label, c in e["per_class"].items()))
    labels = e["confusion"]["labels"]
    width = max(len(label) for label in labels)
    lines.append("confusion (rows: gold, columns: predicted): " + " ".join(label[:8] for label in labels))
    for label, counts in zip(labels, e["confusion"]["rows_gold_columns_predicted"]):
        lines.append(f"  {label:>{width}} " + " ".join(f"{c:>8}" for c in counts))
    t = e["against_teacher"]
    lines.append(f"against the teacher on its {t['rows']} rows: {t['disagree']} disagreements; the student right "
                 f"on {t['student_right']}, the teacher on {t['teacher_right']}, neither on {t['both_wrong']}")
    for r in e["mistakes"]:
        lines.append(f"  gold {r['gold']!r:<16} student {r['student']!r:<16} teacher {str(r.get('teacher'))!r:<16} "
                     f"right: {r['who_was_right']:<26} {r['input'][:60]!r}")
    return lines


__all__ = ["errors", "render", "predictions"]
