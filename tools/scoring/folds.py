"""Folds over the demonstrations, for runs whose only gold rows are the user's demonstrations.

Fold j is scored by models that never saw it: trained without fold j's demonstrations and
without any row whose prompt showed them. Generated and relabelled rows record in
`source["fold"]` the one fold whose demonstrations their prompt showed (None: none shown).
"""
from __future__ import annotations

from typing import Optional

from p2m.runfolder.data_store import demo_rows
from p2m.core.schemas import Example, TaskSpec


def fold_count(task: TaskSpec, wanted: int) -> int:
    """How many folds the demonstrations make (0: too few to fold)."""
    return min(max(0, wanted), len(task.examples)) if len(task.examples) >= 2 and wanted >= 2 else 0


def demo_folds(task: TaskSpec, k: int) -> list[int]:
    """The fold of each demonstration: dealt round-robin within each label, so folds stay
    balanced (the i-th demonstration of a label goes to fold i mod k, offset per label)."""
    if k <= 0:
        return []
    seen: dict[str, int] = {}
    offset: dict[str, int] = {}
    folds = []
    for demo in task.examples:
        key = demo.output if task.label_set else ""
        offset.setdefault(key, len(offset))
        folds.append((seen.get(key, 0) + offset[key]) % k)
        seen[key] = seen.get(key, 0) + 1
    return folds


def row_fold(example: Example, folds: list[int]) -> Optional[int]:
    """The demonstration fold a row carries: a user demonstration's own fold, or the fold whose
    demonstrations wrote or labelled it; None when it saw no demonstration."""
    source = example.source
    if source.get("kind") == "user" and isinstance(source.get("row"), int) and source["row"] < len(folds):
        return folds[source["row"]]
    fold = source.get("fold")
    return fold if isinstance(fold, int) else None


def usable_for(example: Example, folds: list[int], held_out: int) -> bool:
    """Whether a model scored on fold `held_out` may train or validate on this row."""
    return row_fold(example, folds) != held_out


def task_seeing(task: TaskSpec, folds: list[int], keep: set[int]) -> TaskSpec:
    """The task with only the demonstrations of the folds in `keep` (for prompts)."""
    demos = [d for d, f in zip(task.examples, folds) if f in keep]
    return task.model_copy(update={"examples": demos})


def held_out_demos(task: TaskSpec, folds: list[int], fold: int) -> list[Example]:
    """Fold `fold`'s demonstrations as gold test rows."""
    return [row for row, f in zip(demo_rows(task, "test"), folds) if f == fold]
