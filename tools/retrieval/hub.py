"""The Hugging Face Hub as a dataset source: search its listing, then download into a catalog.

Hub hits join the search as search-only entries; `download_dataset` turns one into a local
catalog folder (card.json + train/test JSONL) that `load_dataset` then maps and loads like any
other. Both take an `api`/`loader` argument so tests run against local stand-ins, never the network.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Optional

from p2m.tools.retrieval.catalog import CatalogEntry, DatasetError
from p2m.tools.families import FAMILIES

TASK_TAGS = {tag: f.name for f in FAMILIES.values() for tag in f.hub_tags}


def _task_type(tags: list[str]) -> Optional[str]:
    for tag in tags:
        kind = tag.split(":", 1)[-1] if tag.startswith("task_categories:") else None
        if kind in TASK_TAGS:
            return TASK_TAGS[kind]
    return None


def search_hub(query: str, limit: int = 20, api: Any = None) -> list[CatalogEntry]:
    """Hub datasets matching `query`, most downloaded first, as search-only catalog entries."""
    if api is None:
        from huggingface_hub import HfApi

        api = HfApi()
    entries = []
    for info in api.list_datasets(search=query, limit=limit, sort="downloads", full=True):
        card = getattr(info, "card_data", None) or {}
        description = getattr(info, "description", None) or \
            (card.get("pretty_name") if isinstance(card, dict) else "") or ""
        tags = list(getattr(info, "tags", None) or [])
        entries.append(CatalogEntry(name=info.id, description=str(description),
                                    task_type=_task_type(tags),
                                    extra={"source": "hub", "downloads": getattr(info, "downloads", 0),
                                           "tags": tags[:20]}))
    return entries


def download_dataset(name: str, catalog_dir: Path, max_rows: int = 5000,
                     loader: Optional[Callable[..., Any]] = None) -> CatalogEntry:
    """Fetch a Hub dataset with `datasets.load_dataset` into `catalog_dir/<name>` and return it as
    a loadable entry. Label names come from the dataset's ClassLabel feature when there is one."""
    loader = loader or __import__("datasets").load_dataset
    try:
        dataset = loader(name)
    except Exception as exc:  # gated, missing, offline: a clear reason for the trace
        raise DatasetError(f"{name}: could not download from the Hub: {exc}") from None
    splits = {"train": "train", "test": "test" if "test" in dataset else
              "validation" if "validation" in dataset else None}
    if "train" not in dataset:
        raise DatasetError(f"{name}: the Hub dataset has no train split (splits: {list(dataset)})")
    folder = catalog_dir / name.replace("/", "__")
    folder.mkdir(parents=True, exist_ok=True)
    label_names = None
    for ours, theirs in splits.items():
        if theirs is None:
            continue
        part = dataset[theirs]
        feature = part.features.get("label") if hasattr(part, "features") else None
        label_names = label_names or getattr(feature, "names", None)
        rows = part.select(range(min(max_rows, len(part))))
        tmp = folder / f"{ours}.jsonl.tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            for row in rows:
                f.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
        tmp.replace(folder / f"{ours}.jsonl")
    card = {"name": name, "description": f"Downloaded from the Hugging Face Hub: {name}",
            "source": f"https://huggingface.co/datasets/{name}", "label_names": label_names,
            "labels": label_names}
    (folder / "card.json").write_text(json.dumps(card, indent=1), encoding="utf-8")
    return CatalogEntry(name=name, description=card["description"], task_type=None,
                        labels=label_names, path=folder, extra={"label_names": label_names,
                                                                "source": "hub"})
