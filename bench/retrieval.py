"""Dataset retrieval quality: BM25 alone, dense alone and p2m's full retriever.

usage: python -m bench.retrieval --catalog FILE_OR_DIR --queries FILE [--llm SPEC]
                                [--rerank vote|likelihood] [--votes N] [--limit N]
                                [--judgments FILE] [--split-file FILE --split tune|test]
                                [--pool OUT] [--systems A,B] [--input-weight W]
                                [--rankings OUT | --rescore RANKINGS]
Queries are JSONL {"prompt", "relevant": [dataset names]}; a query may also carry what a run
knows of its task (`task_type`, `labels`, `examples`), which p2m's search then uses; the
task-aware components are scored apart (`p2m_task_words` adds the family and label names to the
search words, `p2m_task_words_inputs` also the demonstration inputs to the dense query).
Relevance may come from `--judgments` ({id, relevant, judged}); `--pool OUT` writes the not yet
judged top 10 of every system per query (queries without relevance are pooled, not scored), and
`unjudged@10` counts those names. Queries with no relevant dataset are listed, not scored.
`--rankings OUT` keeps every system's ranked lists; `--rescore OUT` scores them again (after
the pooled names were judged) without searching or calling the LLM again: an LLM rerank can take
an hour per half, and its figures must not be read before its new names are judged.
Prints one JSON line with recall@5, recall@10 and MRR@10 per retriever. recall@k = |relevant in
top k| / min(|relevant|, k), averaged over queries; hit@5 = share of queries with any relevant
dataset in the top 5; MRR@10 uses the first relevant hit. distinct_recall@5 is the strict
reading: relevant mirrors (same card text or base name) count as one dataset, and a rank finds
at most one dataset. The full retriever (`search_datasets`) combines stemmed BM25 and dense scores
(datasets in another language than the query's demoted), collapses mirrors and near-duplicate
datasets (a group counts as one rank and its members are all "retrieved") and, with an LLM,
reranks the top 20 candidates: by majority vote over sampled selections (`--rerank vote`), or by
the likelihood of the task given each card fused with the retrieval rank (`--rerank likelihood`,
for the embedded model: `--llm local`).

Query sets (bench/queries/README.md says how they were made):
- `datasets.jsonl` (40 queries) was used while tuning the retriever; `datasets_heldout.jsonl` (22)
  was written before any tuning. Their labels are what the author listed from memory.
- `*_pooled.jsonl`: the same prompts with the labels completed by pooling (TREC style): every
  dataset in the top 10 of BM25, dense or p2m was judged against the written criterion, and
  the relevant ones added (listed per query in `judged_from_pool`).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, Callable


def scores(ranked: list[list[str]], relevant: set[str], k: int) -> tuple[float, float]:
    """(recall@k, reciprocal rank within k) for one query; each rank holds a group of names.

    A group of mirrors can hold more relevant names than k, so recall is capped at 1."""
    found, rr = set(), 0.0
    for rank, group in enumerate(ranked[:k]):
        hit = relevant & set(group)
        if hit and not rr:
            rr = 1.0 / (rank + 1)
        found |= hit
    return min(1.0, len(found) / min(len(relevant), k)), rr


def distinct_recall(ranked: list[list[str]], relevant: set[str], k: int,
                    keys: Callable[[str], set[str]]) -> float:
    """recall@k over distinct datasets: relevant names sharing a key (card text or base name) are
    one dataset, and a rank finds at most one dataset however many mirrors its group holds."""
    classes: list[set[str]] = []  # the relevant datasets, each as the union of its names' keys
    for name in relevant:
        mine = set(keys(name))
        for other in [c for c in classes if c & mine]:
            classes.remove(other)
            mine |= other
        classes.append(mine)
    found: set[int] = set()
    for group in ranked[:k]:
        group_keys = set().union(*(keys(n) for n in group))
        hit = [i for i, c in enumerate(classes) if i not in found and c & group_keys]
        if hit:
            found.add(hit[0])
    return len(found) / min(len(classes), k)


def task_of(q: dict[str, Any]) -> Any:
    """The TaskSpec a run would have for a query with task fields (`task_type`, `labels`,
    `examples`), or None for a bare prompt."""
    if "task_type" not in q:
        return None
    from p2m.core.schemas import TaskSpec

    return TaskSpec(instruction=q["prompt"], task_type=q["task_type"], labels=q.get("labels"),
                    examples=q.get("examples") or [])


def select(queries: list[dict[str, Any]], split_file: str, split: str) -> list[dict[str, Any]]:
    """The queries of one half (`tune`/`test`) of a split file ({"tune": [ids], "test": [ids]})."""
    if split == "all":
        return queries
    if not split_file:
        raise SystemExit("--split needs --split-file")
    ids = set(json.loads(Path(split_file).read_text())[split])
    return [q for q in queries if q.get("id") in ids]


def query_ids(queries: list[dict[str, Any]]) -> list[str]:
    """Each query's id, or its prompt where it has none."""
    return [q.get("id") or q["prompt"] for q in queries]


def save_rankings(path: str, queries: list[dict[str, Any]], ranked: dict, seconds: dict,
                  meta: dict) -> None:
    """Every system's ranked groups per query, with the query ids they answer."""
    Path(path).write_text(json.dumps({"ids": query_ids(queries),
                                      "ranked": ranked, "seconds": seconds, "meta": meta}))


def load_rankings(path: str, queries: list[dict[str, Any]]) -> tuple[dict, dict, dict]:
    """What save_rankings wrote, for the same queries in the same order (else SystemExit)."""
    saved = json.loads(Path(path).read_text(encoding="utf-8"))
    ids = query_ids(queries)
    if saved["ids"] != ids:
        raise SystemExit(f"{path} ranks other queries than these {len(ids)}: "
                         "give the --queries, --split and --limit of the run that wrote it")
    return saved["ranked"], saved["seconds"], saved["meta"]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--catalog", required=True)
    ap.add_argument("--queries", required=True)
    ap.add_argument("--judgments", default="",
                    help="JSONL {id, relevant, judged}: relevance for queries without `relevant`")
    ap.add_argument("--split-file", default="")
    ap.add_argument("--split", choices=("all", "tune", "test"), default="all")
    ap.add_argument("--pool", default="", help="write the unjudged top 10 of every system here "
                                               "(JSONL per query) instead of scoring")
    ap.add_argument("--llm", default="none", help="LLM for the rerank step ('none' skips it)")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--expand", action="store_true", help="LLM query expansion before search")
    ap.add_argument("--votes", type=int, default=3)
    ap.add_argument("--rerank", choices=("vote", "likelihood"), default="vote")
    ap.add_argument("--embedder", default="",
                    help="minilm (default), mpnet (p2m's all-mpnet-base-v2, data.search_embedder) "
                         "or a sentence-transformers folder; each has its own cached index")
    ap.add_argument("--systems", default="",
                    help="comma-separated retrievers to run (default: all)")
    ap.add_argument("--input-weight", type=float, default=None,
                    help="share of demonstration inputs in the dense query (default: p2m's)")
    ap.add_argument("--rankings", default="", help="write every system's ranked lists here (JSON)")
    ap.add_argument("--rescore", default="",
                    help="score the ranked lists a --rankings run wrote, with the current judgments")
    args = ap.parse_args()

    from p2m.llm.factory import make_llm
    from p2m.runfolder.data_store import read_jsonl
    from p2m.tools.retrieval.dataset_index import head_text
    from p2m.tools.retrieval.catalog import load_catalog
    from p2m.tools.retrieval.datasets import (INPUT_WEIGHT, MPNET, TASK_WORDS, base_name, card_key,
                                    open_index, search_datasets)

    catalog = load_catalog([args.catalog])
    queries = select(read_jsonl(args.queries), args.split_file, args.split)
    queries = queries[:args.limit] if args.limit else queries
    judged: dict[str, set[str]] = {}
    if args.judgments:
        for row in read_jsonl(args.judgments):
            judged[row["id"]] = set(row.get("judged", []))
            for q in queries:
                if q.get("id") == row["id"]:
                    q["relevant"] = row["relevant"]
    by_name = {e.name: e for e in catalog}

    def same(name: str) -> set[str]:
        """A dataset's identities: its base name and its card text (mirrors share one)."""
        key = card_key(by_name[name]) if name in by_name else ""
        return {"name:" + base_name(name)} | ({"card:" + key} if key else set())  # "": no card

    if args.rescore:
        ranked, seconds, meta = load_rankings(args.rescore, queries)
    else:
        started = time.perf_counter()
        index = open_index(catalog, args.embedder or "minilm", progress=True)
        build_s = time.perf_counter() - started
        llm = None if args.llm == "none" else make_llm(args.llm)
        weight = INPUT_WEIGHT if args.input_weight is None else args.input_weight

        def names(ids: list[int]) -> list[list[str]]:
            return [[catalog[i].name] for i in ids]

        def p2m(q: dict[str, Any], words: bool, input_weight: float) -> list[list[str]]:
            task = task_of(q)
            hits = search_datasets("" if task else q["prompt"], catalog, task, top_k=10, index=index,
                                   llm=llm, votes=args.votes, expand=args.expand, rerank=args.rerank,
                                   task_words=words, input_weight=input_weight)
            return [[h["name"], *h.get("duplicates", [])] for h in hits]

        retrievers: dict[str, Callable[[dict[str, Any]], list[list[str]]]] = {
            "bm25": lambda q: names(index.bm25(q["prompt"], 10)),
            "dense": lambda q: names(index.dense(q["prompt"], 10)),
            "p2m": lambda q: p2m(q, TASK_WORDS, weight),
        }
        if any("task_type" in q for q in queries):  # the task-aware components, measured apart
            retrievers.update({"p2m_task_words": lambda q: p2m(q, True, 0.0),
                               "p2m_task_words_inputs": lambda q: p2m(q, True, weight or 0.25)})
        if args.systems:
            wanted = args.systems.split(",")
            unknown = set(wanted) - set(retrievers)
            if unknown:
                raise SystemExit(f"unknown --systems {sorted(unknown)}; known: {sorted(retrievers)}")
            retrievers = {name: retrievers[name] for name in wanted}
        ranked: dict[str, list[list[list[str]]]] = {}  # system -> per query, its ranked groups
        seconds: dict[str, float] = {}
        for name, retrieve in retrievers.items():
            t0 = time.perf_counter()
            ranked[name] = [retrieve(q) for q in queries]
            seconds[name] = (time.perf_counter() - t0) / max(1, len(queries))

        meta = {"embedder": {"": "all-MiniLM-L6-v2", "minilm": "all-MiniLM-L6-v2",
                             "mpnet": MPNET}.get(args.embedder, Path(args.embedder).name),
                "index_built_now": index.built_now, "index_s": round(build_s, 1),
                "llm": llm.describe() if llm else None, "expand": args.expand,
                "rerank": args.rerank if llm else None, "input_weight": weight,
                "votes": args.votes if llm and args.rerank == "vote" else None}
        if args.rankings:
            save_rankings(args.rankings, queries, ranked, seconds, meta)
    unjudged = []  # each query's top-10 names that no judgment covers yet
    for i, q in enumerate(queries):
        seen = judged.get(q.get("id", ""), set())
        pool: list[str] = []
        for runs in ranked.values():
            pool += [g[0] for g in runs[i][:10] if g[0] not in seen and g[0] not in pool]
        unjudged.append(pool)
    if args.pool:
        with open(args.pool, "w", encoding="utf-8") as out:
            for q, pool in zip(queries, unjudged):
                out.write(json.dumps({"id": q.get("id"), "prompt": q["prompt"],
                                      "pool": [{"name": n, "head": head_text(by_name[n])[:300]}
                                               for n in pool]}) + "\n")
    if any("relevant" not in q for q in queries):
        print(json.dumps({"pooled": args.pool, "queries": len(queries),
                          "unjudged": sum(map(len, unjudged))}))
        return 0
    out: dict[str, dict[str, float]] = {}
    misses: list[str] = []
    last = list(ranked)[-1]  # misses are listed for the last system run
    scored = [i for i, q in enumerate(queries) if q["relevant"]]  # none fits: no recall (TREC)
    n = max(1, len(scored))
    for name in ranked:
        r5 = r10 = mrr = hit5 = d5 = 0.0
        for i in scored:
            relevant = set(queries[i]["relevant"])
            rec5 = scores(ranked[name][i], relevant, 5)[0]
            r5 += rec5
            d5 += distinct_recall(ranked[name][i], relevant, 5, same)
            hit5 += rec5 > 0
            rec10, rr = scores(ranked[name][i], relevant, 10)
            r10 += rec10
            mrr += rr
            if name == last and not rec5:
                misses.append(queries[i]["prompt"][:60])
        out[name] = {"recall@5": round(r5 / n, 3), "recall@10": round(r10 / n, 3),
                     "mrr@10": round(mrr / n, 3),
                     "hit@5": round(hit5 / n, 3), "distinct_recall@5": round(d5 / n, 3),
                     "s_per_query": round(seconds[name], 3)}
    print(json.dumps({"catalog": args.catalog, "datasets": len(catalog),
                      "queries": args.queries, "split": args.split, "n": len(queries),
                      "scored": len(scored), "unjudged@10": sum(map(len, unjudged)),
                      "no_relevant": [q.get("id") or q["prompt"][:40] for q in queries
                                      if not q["relevant"]],
                      **meta, **({"rescored": args.rescore} if args.rescore else {}), **out,
                      f"{last}_misses@5": misses}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
