"""The run's examples on disk: one JSONL file, append-only, every row with its provenance."""
from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any, Iterable, Optional

from p2m.core.files import append_durably, redact
from p2m.core.schemas import Example, TaskSpec
from p2m.runfolder.run_files import DATA, DROPPED, EXAMPLES


def demo_rows(task: TaskSpec, split: str = "train") -> list[Example]:
    """The demonstrations as rows, each with provenance 'user' and its index (its fold's key)."""
    return [Example(input=d.input, output=d.output, split=split, source={"kind": "user", "row": i})
            for i, d in enumerate(task.examples)]


def normalize(text: str) -> str:
    """The key under which two inputs count as the same example."""
    return re.sub(r"\s+", " ", text.strip().lower())


class DataStore:
    """`RUN/data/examples.jsonl`. Appends are flushed and fsynced, so a kill loses nothing written."""

    def __init__(self, run_dir: str | Path):
        self.dir = Path(run_dir) / DATA
        self.dir.mkdir(parents=True, exist_ok=True)
        self.path = self.dir / EXAMPLES
        self._rows: Optional[list[Example]] = None

    def all(self) -> list[Example]:
        if self._rows is None:
            rows: list[Example] = []
            if self.path.exists():
                with open(self.path, encoding="utf-8") as f:
                    for line in f:
                        line = line.strip()
                        if not line:
                            continue
                        try:
                            rows.append(Example.model_validate_json(line))
                        except ValueError:
                            continue  # a torn last line after a kill: skip it
            self._rows = rows
        return list(self._rows)

    def seen_inputs(self) -> set[str]:
        return {normalize(e.input) for e in self.all()}

    def add(self, examples: Iterable[Example]) -> list[Example]:
        """Append examples whose input is new; return those kept."""
        seen = self.seen_inputs()
        kept = []
        for ex in examples:
            ex = Example.model_validate(redact(ex.model_dump()))  # rows can carry pasted keys too
            key = normalize(ex.input)
            if not key or key in seen:
                continue
            seen.add(key)
            kept.append(ex)
        if kept:
            append_durably(self.path, "".join(ex.model_dump_json() + "\n" for ex in kept).encode("utf-8"))
            self._rows = None
        return kept

    def add_dropped(self, examples: Iterable[Example]) -> None:
        """Keep rows that were written but dropped (their `drop_reason` in the source), apart
        from the data: `data/dropped.jsonl`, never trained or scored on."""
        rows = [Example.model_validate(redact(e.model_dump())) for e in examples]
        if rows:
            append_durably(self.dir / DROPPED, "".join(e.model_dump_json() + "\n" for e in rows).encode("utf-8"))

    def dropped(self) -> list[Example]:
        path = self.dir / DROPPED
        rows = []
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                try:
                    rows.append(Example.model_validate_json(line))
                except ValueError:
                    continue  # a torn last line after a kill
        return rows

    def split(self, name: str) -> list[Example]:
        return [e for e in self.all() if e.split == name]

    def counts(self) -> dict[str, int]:
        rows = self.all()
        by_kind = Counter(e.source.get("kind", "?") for e in rows if e.split != "test")
        return {
            "train": sum(1 for e in rows if e.split == "train"),
            "validation": sum(1 for e in rows if e.split == "validation"),
            "test": sum(1 for e in rows if e.split == "test"),
            "retrieved": by_kind.get("dataset", 0),
            "generated": by_kind.get("generated", 0),
            "unlabelled": by_kind.get("unlabelled", 0),  # the user's inputs, labelled by the teacher
            "user": by_kind.get("user", 0),
        }

    def added_since(self, before: int) -> Optional[dict[str, Any]]:
        """The rows appended after the store held `before` rows: how many, by source/split and by
        output (outputs only where they are short labels); None when none were."""
        new = self.all()[before:]
        if not new:
            return None
        outputs = Counter(e.output for e in new)
        return {"rows": len(new),
                "by_source": dict(Counter(f"{e.source.get('kind', '?')}/{e.split}" for e in new)),
                **({"by_output": dict(outputs)} if len(outputs) <= 30 and all(len(o) <= 40 for o in outputs) else {})}

    def label_counts(self, split: str = "train") -> dict[str, int]:
        return dict(Counter(e.output for e in self.split(split)))


def read_jsonl(path: str | Path, limit: Optional[int] = None) -> list[dict]:
    """Rows of a JSONL file, with an error naming the line that is not JSON."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"data file not found: {path}")
    rows = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{n}: not JSON ({exc.msg})") from None
            except RecursionError:
                raise ValueError(f"{path}:{n}: nested too deeply to be a row") from None
            if limit is not None and len(rows) >= limit:
                break
    return rows


def read_labelled(path: str | Path, task: TaskSpec, kind: str, split: str = "test",
                  limit: Optional[int] = None) -> list[Example]:
    """Gold rows from a JSONL of {"input", "output"} (SQuAD-style "answers" kept), with labels
    matched to the task's label names; errors name the file and the offending rows."""
    rows = read_jsonl(path, limit=limit)
    if not rows:
        raise ValueError(f"{path}: no rows")
    missing = [i for i, r in enumerate(rows, 1)
               if not isinstance(r, dict) or "input" not in r or "output" not in r]
    if missing:
        raise ValueError(f"{path}: rows {missing[:5]} lack 'input' or 'output'")
    # Text only: a null, a mapping or NaN is not silently turned into "None", "{...}" or "nan".
    # Whole-number outputs (labels written as 0/1) are taken as their digits.
    untyped = [f"{i} ({key}: {type(r[key]).__name__})" for i, r in enumerate(rows, 1)
               for key in ("input", "output")
               if not isinstance(r[key], str) and not (key == "output" and type(r[key]) is int)]
    untyped += [f"{i} (input: empty)" for i, r in enumerate(rows, 1)
                if isinstance(r["input"], str) and not r["input"].strip()]
    if untyped:
        raise ValueError(f"{path}: rows {', '.join(untyped[:5])}: input must be non-empty text, "
                         "output text (or a whole number)")
    examples = [Example(input=str(r["input"]), output=str(r["output"]), split=split,
                        source={"kind": kind, "file": str(path), "row": i,
                                **({"answers": r["answers"]} if isinstance(r.get("answers"), list) else {})})
                for i, r in enumerate(rows)]
    if task.label_set:
        lower = {label.lower(): label for label in task.labels}
        unknown = sorted({e.output for e in examples if e.output.lower() not in lower})
        if unknown:
            raise ValueError(f"{path}: outputs {unknown[:5]} are not in the task's labels {task.labels}")
        examples = [e.model_copy(update={"output": lower[e.output.lower()]}) for e in examples]
    return examples


def user_rows(task: TaskSpec, test_file: Optional[str | Path] = None) -> list[Example]:
    """The user's rows: demonstrations as training rows (provenance 'user'), and the rows they
    labelled for testing (the task's `test:` and `--test FILE`) as the gold test split."""
    rows = demo_rows(task)
    rows += [Example(input=d.input, output=d.output, split="test", source={"kind": "user_test", "row": i})
             for i, d in enumerate(task.test)]
    if test_file:
        rows += read_labelled(test_file, task, kind="user_test")
    return rows
