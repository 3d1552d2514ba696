"""What an LLM rerank can add to dataset retrieval, with simulated judges instead of an LLM.

usage: python -m bench.rerank_ceiling --catalog FILE --queries FILE [--seeds 3]
A simulated judge knows the query's labels and errs at set rates: it misses a relevant candidate
with probability `miss` and takes an irrelevant one with probability `false`. It replies through
p2m's real rerank (`tools/rerank.rerank_by_vote`, three votes) in two modes: Prompt2Model's
(one choice among the top 8) and p2m's (a selection among the top 20). Prints one JSON line of
recall@5 per judge and mode, and the retrieval alone. This bounds what a real LLM can add; it
measures no LLM: `bench/retrieval.py --llm SPEC` does.
"""
from __future__ import annotations

import argparse
import json
import random
import re
import sys
from typing import Any

from bench.retrieval import scores

JUDGES = [(0.0, 0.0), (0.2, 0.05), (0.3, 0.1), (0.4, 0.2)]  # (miss, false) rates


class SimulatedJudge:
    """Selects the candidates whose names are in `relevant`, with errors at the given rates."""

    def __init__(self, relevant: set[str], miss: float, false: float, single: bool, seed: int):
        self.relevant, self.miss, self.false, self.single = relevant, miss, false, single
        self.rng = random.Random(seed)

    def structured(self, messages: list[dict[str, str]], model: Any, **_: Any) -> Any:
        names = re.findall(r"^- (\S+):", messages[0]["content"], re.M)
        picks = [n for n in names if (self.rng.random() >= self.miss if n in self.relevant
                                      else self.rng.random() < self.false)]
        if self.single:
            picks = [self.rng.choice(picks)] if picks else []
        return model.model_validate({"chosen": [{"name": n, "reason": "simulated"} for n in picks]})


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--catalog", required=True)
    ap.add_argument("--queries", required=True)
    ap.add_argument("--seeds", type=int, default=3)
    args = ap.parse_args()

    from p2m.runfolder.data_store import read_jsonl
    from p2m.tools.retrieval.dataset_index import DatasetIndex
    from p2m.tools.retrieval.catalog import load_catalog
    from p2m.tools.retrieval.datasets import search_datasets

    catalog = load_catalog([args.catalog])
    queries = read_jsonl(args.queries)
    index = DatasetIndex(catalog)

    def recall(hits: list[dict[str, Any]], relevant: set[str]) -> float:
        return scores([[h["name"], *h["duplicates"]] for h in hits], relevant, 5)[0]

    out: dict[str, Any] = {"queries": len(queries), "retrieval_alone": 0.0}
    for q in queries:
        relevant = set(q["relevant"])
        alone = search_datasets(q["prompt"], catalog, top_k=40, index=index)
        # the judge sees each group's first name: a group is relevant when any member is
        heads = {h["name"] for h in alone if relevant & {h["name"], *h["duplicates"]}}
        out["retrieval_alone"] += recall(alone, relevant) / len(queries)
        for miss, false in JUDGES:
            for mode, single, window in (("one_of_8", True, 8), ("selection_of_20", False, 20)):
                key = f"judge_miss{miss}_false{false}"
                total = sum(recall(search_datasets(
                    q["prompt"], catalog, top_k=10, index=index, votes=3, rerank_n=window,
                    llm=SimulatedJudge(heads, miss, false, single, seed)), relevant)
                    for seed in range(args.seeds))
                out.setdefault(key, {}).setdefault(mode, 0.0)
                out[key][mode] += total / args.seeds / len(queries)
    print(json.dumps(json.loads(json.dumps(out), parse_float=lambda x: round(float(x), 3))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
