"""The local dataset catalog: what an entry is, and reading entries from catalog folders
(one folder per dataset with its card.json) and JSONL snapshots of Hub descriptions."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from p2m.runfolder.data_store import read_jsonl


class DatasetError(ValueError):
    """A dataset that cannot be used for the task, with the reason."""


@dataclass
class CatalogEntry:
    """One dataset the search can find; `path` is None for search-only snapshot entries."""

    name: str
    description: str
    task_type: Optional[str] = None
    labels: Optional[list[str]] = None
    path: Optional[Path] = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def loadable(self) -> bool:
        return self.path is not None

    def text(self) -> str:
        labels = " ".join(self.labels or [])
        return f"{self.name.replace('_', ' ')} {self.description} {self.task_type or ''} {labels}"


def load_catalog(sources: list[str | Path]) -> list[CatalogEntry]:
    """Entries from catalog directories (one folder per dataset with card.json) and JSONL snapshots."""
    entries: list[CatalogEntry] = []
    for src in sources:
        src = Path(src)
        if src.is_dir():
            for card_path in sorted(src.glob("*/card.json")):
                try:
                    card = json.loads(card_path.read_text(encoding="utf-8"))
                except (OSError, json.JSONDecodeError):
                    continue  # an unreadable card is skipped, not fatal
                entries.append(CatalogEntry(
                    name=str(card.get("name") or card_path.parent.name),
                    description=str(card.get("description", "")),
                    task_type=card.get("task_type"), labels=card.get("labels"),
                    path=card_path.parent,
                    extra={"label_names": card.get("label_names")},
                ))
        elif src.is_file():
            for row in read_jsonl(src):
                entries.append(CatalogEntry(name=str(row.get("name")),
                                            description=str(row.get("description") or ""),
                                            extra={"evaluation_metadata": row.get("evaluation_metadata")}))
        else:
            raise FileNotFoundError(f"catalog not found: {src}")
    return entries
