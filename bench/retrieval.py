"""Dataset retrieval quality: BM25 alone, dense alone and p2m's full retriever.

usage: python -m bench.retrieval --catalog FILE_OR_DIR --queries FILE [--llm SPEC]
                                [--rerank vote|likelihood] [--votes N] [--limit N]
Queries are JSONL {"prompt", "relevant": [dataset names]}. Prints one JSON line with recall@5,
recall@10 and MRR@10 per retriever. recall@k = |relevant in top k| / min(|relevant|, k), averaged
over queries; hit@5 = share of queries with any relevant dataset in the top 5; MRR@10 uses the
first relevant hit. distinct_recall@5 is the strict reading: relevant mirrors (same card text or
base name) count as one dataset, and a rank finds at most one dataset. The full retriever (`search_datasets`) combines stemmed BM25 and dense scores
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
from typing import Callable


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


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--catalog", required=True)
    ap.add_argument("--queries", required=True)
    ap.add_argument("--llm", default="none", help="LLM for the rerank step ('none' skips it)")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--expand", action="store_true", help="LLM query expansion before search")
    ap.add_argument("--votes", type=int, default=3)
    ap.add_argument("--rerank", choices=("vote", "likelihood"), default="vote")
    args = ap.parse_args()

    from p2m.agent.factory import make_llm
    from p2m.tools.data_store import read_jsonl
    from p2m.tools.dataset_index import DatasetIndex
    from p2m.tools.catalog import load_catalog
    from p2m.tools.datasets import base_name, card_key, search_datasets

    catalog = load_catalog([args.catalog])
    queries = read_jsonl(args.queries, limit=args.limit or None)
    started = time.perf_counter()
    index = DatasetIndex(catalog)
    build_s = time.perf_counter() - started
    llm = None if args.llm == "none" else make_llm(args.llm)

    by_name = {e.name: e for e in catalog}

    def same(name: str) -> set[str]:
        """A dataset's identities: its base name and its card text (mirrors share one)."""
        key = card_key(by_name[name]) if name in by_name else ""
        return {"name:" + base_name(name)} | ({"card:" + key} if key else set())  # "": no card

    def names(ids: list[int]) -> list[list[str]]:
        return [[catalog[i].name] for i in ids]

    retrievers = {
        "bm25": lambda q: names(index.bm25(q, 10)),
        "dense": lambda q: names(index.dense(q, 10)),
        "p2m": lambda q: [[h["name"], *h.get("duplicates", [])]
                          for h in search_datasets(q, catalog, top_k=10, index=index, llm=llm,
                                                      votes=args.votes, expand=args.expand,
                                                      rerank=args.rerank)],
    }
    out: dict[str, dict[str, float]] = {}
    misses: list[str] = []
    for name, retrieve in retrievers.items():
        r5 = r10 = mrr = hit5 = d5 = 0.0
        t0 = time.perf_counter()
        for q in queries:
            ranked = retrieve(q["prompt"])
            relevant = set(q["relevant"])
            rec5 = scores(ranked, relevant, 5)[0]
            r5 += rec5
            d5 += distinct_recall(ranked, relevant, 5, same)
            hit5 += rec5 > 0
            rec10, rr = scores(ranked, relevant, 10)
            r10 += rec10
            mrr += rr
            if name == "p2m" and not rec5:
                misses.append(q["prompt"][:60])
        n = max(1, len(queries))
        out[name] = {"recall@5": round(r5 / n, 3), "recall@10": round(r10 / n, 3),
                     "mrr@10": round(mrr / n, 3),
                     "hit@5": round(hit5 / n, 3), "distinct_recall@5": round(d5 / n, 3),
                     "s_per_query": round((time.perf_counter() - t0) / n, 3)}
    print(json.dumps({"catalog": args.catalog, "datasets": len(catalog), "queries": len(queries),
                      "index_built_now": index.built_now, "index_s": round(build_s, 1),
                      "llm": llm.describe() if llm else None, "expand": args.expand, "rerank": args.rerank if llm else None,
                      "votes": args.votes if llm and args.rerank == "vote" else None, **out, "p2m_misses@5": misses}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
