"""PNG plots of a run: metric per iteration, training loss, confusion matrix (matplotlib, Agg)."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from .rundir import RunDir
from .tools.baselines import NAME as BASELINE


def write_plots(run_dir: str | Path) -> dict[str, str]:
    """Write RUN/plots/*.png for what the run has so far; returns {name: path}."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    run_dir = Path(run_dir)
    out = run_dir / "plots"
    out.mkdir(exist_ok=True)
    made: dict[str, str] = {}
    run = RunDir(run_dir)
    metrics = run.read_json("metrics.json") or {}
    history = metrics.get("history", [])
    if history:
        fig, ax = plt.subplots(figsize=(5, 3.2))
        ax.plot([h["iteration"] for h in history], [h["value"] for h in history], marker="o", label="student")
        for name, style in (("teacher", "--"), (BASELINE, "-.")):
            base = (metrics.get("baselines") or {}).get(name) or {}
            if base.get("value") is not None:
                ax.axhline(base["value"], color="gray", linestyle=style, label=f"{name} ({base.get('n')} rows)")
        target = run.task().target if run.is_run else None
        if target:
            ax.axhline(target.value, color="green", linestyle=":", label="target")
        ax.set(xlabel="iteration", ylabel=history[-1]["name"], title="Metric per iteration")
        ax.set_xticks([h["iteration"] for h in history])
        ax.legend()
        made["metric"] = _save(fig, out / "metric.png")
    curve = (run.read_json("train.json") or {}).get("loss_curve") or []
    if curve:
        fig, ax = plt.subplots(figsize=(5, 3.2))
        ax.plot([c["step"] for c in curve], [c["loss"] for c in curve])
        ax.set(xlabel="step", ylabel="loss", title="Training loss (last training)")
        made["loss"] = _save(fig, out / "loss.png")
    confusion: Optional[dict] = (metrics.get("latest") or {}).get("confusion")
    if confusion:
        labels = list(confusion)
        grid = [[confusion[g].get(p, 0) for p in labels] for g in labels]
        fig, ax = plt.subplots(figsize=(1.2 + 0.6 * len(labels), 1.0 + 0.6 * len(labels)))
        ax.imshow(grid, cmap="Blues")
        ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
        ax.set_yticks(range(len(labels)), labels)
        for i, row in enumerate(grid):
            for j, n in enumerate(row):
                ax.text(j, i, str(n), ha="center", va="center")
        ax.set(xlabel="predicted", ylabel="gold", title="Confusion (latest evaluation)")
        made["confusion"] = _save(fig, out / "confusion.png")
    return made


def _save(fig: Any, path: Path) -> str:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return str(path)
