"""Dataset search over a catalog, and loading an entry into input/output pairs with provenance."""
from __future__ import annotations

import random
import re
from functools import partial
from pathlib import Path
from typing import Any, Optional

import numpy as np

from p2m.core.schemas import TASK_TYPE_ALIASES, Example, TaskSpec
from p2m.tools.retrieval.catalog import CatalogEntry, DatasetError
from p2m.runfolder.data_store import read_jsonl
from p2m.tools.retrieval.rerank import expand_query, rerank_by_likelihood, rerank_by_vote
from p2m.tools.data.columns import ColumnError, choose_mapping, apply_mapping
from p2m.tools.encoders.embed import embed
from p2m.tools.families import FAMILIES
from p2m.tools.retrieval.languages import language_mismatch, languages
from p2m.tools.encoders.mpnet import NAME as MPNET


def _family(task_type: Optional[str]) -> Optional[str]:
    if task_type is None:
        return None
    return TASK_TYPE_ALIASES.get(task_type, task_type)


def language_misfit(entry: CatalogEntry, task: TaskSpec) -> Optional[str]:
    """Why the dataset's language rules it out for the task (its card or name names languages
    of which none is the task's; a task naming no language wants English), or None."""
    theirs = languages(entry.description, entry.name)
    wanted = languages(task.instruction)
    if not language_mismatch(theirs, wanted):
        return None
    return (f"in {', '.join(sorted(theirs))}, not the task's "
            f"{', '.join(sorted(wanted - {'en'} or {'en'}))}")


def compatibility(entry: CatalogEntry, task: TaskSpec) -> tuple[bool, str]:
    """Whether the dataset can train this task as it is, and why (or why not)."""
    misfit = language_misfit(entry, task)
    if misfit:
        return False, misfit
    if not entry.loadable and entry.extra.get("source") != "hub":
        return False, "search-only catalog entry: no local copy to load"
    fam = _family(entry.task_type)
    if fam is not None and fam != task.task_type:
        return False, f"task type {entry.task_type} does not match {task.task_type}"
    if task.label_set and entry.labels is None and entry.extra.get("source") == "hub":
        return True, "Hub dataset: its labels are checked after the download"
    if task.label_set:
        theirs = {str(x).lower() for x in entry.labels or []}
        ours = {x.lower() for x in task.labels}
        if theirs != ours:
            return False, f"labels {sorted(entry.labels or [])} differ from the task's {task.labels}"
    return True, "task type and labels match"


_WORDS = re.compile(r"[a-z0-9]+")
COLLAPSE_DEPTH = 100  # ranked candidates searched for mirrors of the shown hits


def base_name(name: str) -> str:
    """`GEM/e2e_nlg`, `lhoestq/squad` -> `e2e_nlg`, `squad`: copies under another owner."""
    return name.rsplit("/", 1)[-1].lower().replace("-", "_")


# Placeholder descriptions that unrelated datasets share: the `datasets` library's template for
# a new dataset script (39 cards in the Prompt2Model catalog snapshot, from legal contracts to
# Java code) tells nothing about the data, so it is no sign of a mirror.
TEMPLATE_CARDS = ("this new dataset is designed to solve this great nlp task",)


def card_key(entry: CatalogEntry, chars: int = 300) -> str:
    """The start of a card's description, normalised to its words: mirrors copy the card word for
    word, sometimes with stray markup (`\\ The shared task of CoNLL-2003...`). Empty for a
    template placeholder (TEMPLATE_CARDS)."""
    key = " ".join(_WORDS.findall(entry.description.lower()))[:chars]
    return "" if key.startswith(TEMPLATE_CARDS) else key


def collapse_duplicates(order: list[int], catalog: list[CatalogEntry], vectors: np.ndarray,
                        threshold: float = 0.95) -> list[list[int]]:
    """Group ranked entries that are the same dataset: same base name, same card text (a mirror
    under another owner and name) or near-identical indexed text.

    `vectors` are unit embeddings aligned with `order`; each group keeps its best-ranked member
    first, so a mirror never pushes a different dataset out of the top k.
    """
    groups: list[list[int]] = []
    heads: list[int] = []  # position in `order` of each group's first member
    names = [base_name(catalog[i].name) for i in order]
    cards = [card_key(catalog[i]) for i in order]
    similar = vectors @ vectors.T if len(order) else np.zeros((0, 0))
    for pos, idx in enumerate(order):
        for g, head_pos in enumerate(heads):
            same_card = cards[pos] == cards[head_pos] != ""
            if names[pos] == names[head_pos] or same_card or similar[pos, head_pos] >= threshold:
                groups[g].append(idx)
                break
        else:
            groups.append([idx])
            heads.append(pos)
    return groups


RERANK_MODES = ("vote", "likelihood")
# Measured on the tune half of bench/queries/tasks.jsonl (docs/data.md): adding the family and
# label names to the search words, or the demonstration inputs to the dense query, did not raise
# recall@5 (MiniLM 0.710 -> 0.700, mpnet 0.757 -> 0.749-0.754), so both are off by default and
# kept for the bench to measure.
TASK_WORDS = False
INPUT_WEIGHT = 0.0


def open_index(catalog: list[CatalogEntry], embedder: str = "minilm", progress: bool = False) -> Any:
    """The persistent search index of `catalog` for `embedder` ("minilm", "mpnet" or a
    sentence-transformers folder, `embed.embedder_path`), named after it."""
    from p2m.tools.retrieval.dataset_index import DatasetIndex  # chromadb: heavy

    if embedder == "minilm":
        return DatasetIndex(catalog, progress=progress)
    return DatasetIndex(catalog, progress=progress, embedder=partial(embed, model=embedder),
                        embedder_name=MPNET if embedder == "mpnet" else Path(embedder).name)


def task_query(task: TaskSpec, query: str = "", words: bool = TASK_WORDS) -> str:
    """The words a search for `task` uses: its instruction, a planner's extra words and, with
    `words`, the family's name where it says something (not "text to text") and the label names."""
    parts = [task.instruction]
    if query and query not in task.instruction:
        parts.append(query)
    if words and task.task_type != "text2text":
        parts.append(FAMILIES[task.task_type].search_words)
    if words and task.labels:
        parts.append(", ".join(task.labels))
    return ". ".join(parts)


def search_datasets(query: str, catalog: list[CatalogEntry], task: Optional[TaskSpec] = None,
                    top_k: int = 5, index: Any = None, llm: Any = None, rerank_n: int = 20,
                    votes: int = 3, expand: bool = False, rerank: str = "vote",
                    task_words: bool = TASK_WORDS, input_weight: float = INPUT_WEIGHT,
                    embedder: str = "minilm") -> list[dict[str, Any]]:
    """Rank catalog entries for `query`: stemmed BM25 + dense (language-aware), duplicates
    collapsed, LLM rerank.

    With a `task`, the search words are its instruction plus `query` (`task_query`; with
    `task_words`, its family and label names too) and its demonstration inputs join the dense
    query with `input_weight`; each hit is checked against the task. Without an `index`, one is
    opened (built once per catalog and embedder) with `embedder` ("minilm" or "mpnet").

    With an LLM and `expand`, the query is first expanded with the task's standard name and known
    dataset names (HyDE-style). With an LLM the top `rerank_n` groups are reranked: `rerank="vote"`
    shows them to it `votes` times (sampled), each reply selects the candidates that fit, and the
    most-voted move up with the LLM's stated reason (`rerank.rerank_by_vote`); `"likelihood"`
    fuses each one's likelihood of the task given its card with its rank
    (`rerank.rerank_by_likelihood`, for backends that score replies). Each hit says whether it
    can train `task` as it is, and why.
    """
    if rerank not in RERANK_MODES:
        raise ValueError(f"rerank must be one of {RERANK_MODES}, not {rerank!r}")
    if not catalog:
        return []

    index = index or open_index(catalog, embedder)
    inputs: list[str] = []
    if task is not None:
        query = task_query(task, query, task_words)
        inputs = [ex.input for ex in task.examples]
    if llm is not None and expand:
        query = expand_query(llm, query)
    # Mirrors are gathered from deeper than the shown ranks, so copies of a hit join its group
    # instead of filling later ranks.
    order = index.hybrid(query, k=max(COLLAPSE_DEPTH, 3 * top_k, rerank_n * 2), inputs=inputs,
                         input_weight=input_weight)
    groups = collapse_duplicates(order, catalog, index.embeddings(order))
    vote_info: dict[int, dict[str, Any]] = {}
    if llm is not None and len(groups) > 1:
        task_text = task.instruction if task else query
        if rerank == "likelihood":
            groups, vote_info = rerank_by_likelihood(llm, task_text, groups, catalog, rerank_n)
        else:
            groups, vote_info = rerank_by_vote(llm, task_text, groups, catalog, rerank_n, votes)
    hits = []
    for rank, group in enumerate(groups[:top_k]):
        entry = catalog[group[0]]
        ok, why = compatibility(entry, task) if task else (entry.loadable, "")
        hit = {"name": entry.name, "rank": rank + 1, "task_type": entry.task_type,
               "labels": entry.labels, "compatible": ok, "reason": why,
               "relabel": bool(task) and not ok and relabel_candidate(entry, task),
               "duplicates": [catalog[i].name for i in group[1:]]}
        if group[0] in vote_info:
            info = vote_info[group[0]]
            hit.update({f"llm_{key}": info[key] for key in ("votes", "likelihood") if key in info})
            hit["llm_reason"] = info["reason"]
        hits.append(hit)
    return hits


def _map_label(value: str, task: TaskSpec) -> str:
    if not task.label_set:
        return value
    for label in task.labels:
        if label.lower() == value.lower():
            return label
    raise DatasetError(f"label {value!r} is not in the task's labels {task.labels}")


def relabel_candidate(entry: CatalogEntry, task: TaskSpec) -> bool:
    """A local classification dataset whose label scheme differs from the task's: its inputs fit,
    and the teacher LLM can label them in the task's scheme."""
    return (entry.loadable and bool(task.label_set)
            and _family(entry.task_type) in (None, "classification")
            and language_misfit(entry, task) is None
            and not compatibility(entry, task)[0])


def load_examples(entry: CatalogEntry, task: TaskSpec, max_train: int, max_test: int,
                  seed: int = 42, llm: Any = None, keep_labels: bool = False,
                  info: Optional[dict[str, Any]] = None) -> tuple[list[Example], list[Example]]:
    """Train and test examples from a local catalog dataset, sampled with `seed`, with provenance.

    Columns are mapped to input/output by `columns.choose_mapping` (the LLM's validated choice,
    or common names); label ids become names from the card. `keep_labels` keeps the dataset's
    own labels (for relabelling) instead of requiring the task's. `info` receives the mapping.
    """
    if entry.path is None:
        raise DatasetError(f"{entry.name}: search-only entry, nothing to load")
    out: dict[str, list[Example]] = {}
    mapping = None
    for split, limit in (("train", max_train), ("test", max_test)):
        path = entry.path / f"{split}.jsonl"
        if not path.is_file():
            if split == "test":
                out[split] = []
                continue
            raise DatasetError(f"{entry.name}: no {split} split ({path.name} missing)")
        rows = read_jsonl(path)
        if not rows:
            raise DatasetError(f"{entry.name}: the {split} split is empty")
        if mapping is None:
            try:
                mapping = choose_mapping(rows, task, entry.name, llm, entry.extra.get("label_names"))
            except ColumnError as exc:
                raise DatasetError(str(exc)) from None
            if info is not None:
                info["mapping"] = mapping.model_dump()
        indices = list(range(len(rows)))
        random.Random(seed).shuffle(indices)
        examples = []
        for i in indices:
            text, target = apply_mapping(rows[i], mapping)
            if not text or not target:
                continue
            output = target if keep_labels else _map_label(target, task)
            source: dict[str, Any] = {"kind": "dataset", "name": entry.name, "split": split, "row": i}
            answers = rows[i].get("answers")
            if isinstance(answers, list) and all(isinstance(a, str) for a in answers):
                source["answers"] = answers  # every accepted answer, for SQuAD-style scoring
            examples.append(Example(input=text, output=output, split=split, source=source))
            if len(examples) >= limit:
                break
        if not examples:
            raise DatasetError(f"{entry.name}: the {split} split has no row with both input and output")
        out[split] = examples
    return out["train"], out["test"]
