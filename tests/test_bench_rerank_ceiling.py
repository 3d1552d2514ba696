"""The simulated judges of bench/rerank_ceiling.py, through p2m's real rerank."""
from bench import rerank_ceiling as ceiling
from p2m.tools.retrieval.catalog import CatalogEntry
from p2m.tools.retrieval.rerank import rerank_by_vote

CATALOG = [CatalogEntry(n, f"card of {n}") for n in ("a", "b", "c", "d")]
GROUPS = [[0], [1], [2], [3]]


def test_a_perfect_judge_selects_exactly_the_relevant_candidates():
    judge = ceiling.SimulatedJudge({"b", "d"}, miss=0.0, false=0.0, single=False, seed=0)
    groups, info = rerank_by_vote(judge, "task", GROUPS, CATALOG, votes=3)
    assert [g[0] for g in groups] == [1, 3, 0, 2]
    assert {i: v["votes"] for i, v in info.items()} == {1: 3, 3: 3}


def test_a_single_choice_judge_names_one_candidate_per_vote():
    judge = ceiling.SimulatedJudge({"b", "d"}, miss=0.0, false=0.0, single=True, seed=0)
    groups, info = rerank_by_vote(judge, "task", GROUPS, CATALOG, votes=3)
    assert sum(v["votes"] for v in info.values()) == 3 and set(info) <= {1, 3}


def test_a_judge_that_misses_everything_leaves_the_order():
    judge = ceiling.SimulatedJudge({"b"}, miss=1.0, false=0.0, single=False, seed=0)
    groups, info = rerank_by_vote(judge, "task", GROUPS, CATALOG, votes=3)
    assert groups == GROUPS and info == {}
