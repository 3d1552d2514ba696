"""PNG plots of a run: metric per iteration, training loss, confusion matrix (matplotlib, Agg)."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from p2m.runfolder.rundir import RunDir
from p2m.tools.families.baselines import NAME as BASELINE
from p2m.runfolder.run_files import METRICS, TRAIN


def write_plots(run_dir: str | Path) -> dict[str, str]:
    """Write RUN/plots/*.png for what the run has so far (by the run itself, at its report);
    returns {name: path}. Each file is written beside its place and renamed over it, so a
    symlink planted at plots/x.png is replaced, never written through."""
    import matplotlib.pyplot as plt

    out = Path(run_dir) / "plots"
    if out.is_symlink():
        raise OSError(f"{out} is a symlink: plots are not written through it")
    out.mkdir(exist_ok=True)
    made: dict[str, str] = {}
    for name, fig in draw_plots(run_dir).items():
        path, tmp = out / f"{name}.png", out / f".{name}.png.tmp"
        tmp.unlink(missing_ok=True)
        fig.savefig(tmp, dpi=90, format="png")
        plt.close(fig)
        tmp.replace(path)
        made[name] = str(path)
    return made


def plot_images(run_dir: str | Path) -> dict[str, Any]:
    """The run's plots as RGBA arrays in memory (for the UI): viewing writes nothing."""
    import matplotlib.pyplot as plt
    import numpy as np

    images = {}
    for name, fig in draw_plots(run_dir).items():
        fig.canvas.draw()
        images[name] = np.asarray(fig.canvas.buffer_rgba()).copy()
        plt.close(fig)
    return images


def draw_plots(run_dir: str | Path) -> dict[str, Any]:
    """Figures for what the run has so far: metric per iteration, training loss, confusion."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    run_dir = Path(run_dir)
    made: dict[str, Any] = {}
    run = RunDir(run_dir)
    metrics = run.read_json(METRICS) or {}
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
        made["metric"] = _laid_out(fig)
    curve = (run.read_json(TRAIN) or {}).get("loss_curve") or []
    if curve:
        fig, ax = plt.subplots(figsize=(5, 3.2))
        ax.plot([c["step"] for c in curve], [c["loss"] for c in curve])
        ax.set(xlabel="step", ylabel="loss", title="Training loss (last training)")
        made["loss"] = _laid_out(fig)
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
        made["confusion"] = _laid_out(fig)
    return made


def _laid_out(fig: Any) -> Any:
    fig.tight_layout()
    fig.set_dpi(90)
    return fig
