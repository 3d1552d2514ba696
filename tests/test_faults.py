"""The fault, kill, bad-input and security scenarios of bench/faults.py, run as tests.

Each scenario drives the real `p2m` command against the fake OpenAI server (tiny student model),
so this module takes a few minutes; bench/faults.py prints the same results as one JSON line.
"""
from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def faults():
    from bench import faults

    return faults


def check(results):
    failed = [r for r in results if not r["passed"]]
    assert not failed, failed
    return results


def test_runs_finish_under_faults_and_count_them(faults, tmp_path):
    for result in check(faults.fault_scenarios(tmp_path, rate=0.15)):
        assert result["counted"] and not result["leaks"]


def test_kill_9_then_resume_matches_an_uninterrupted_run(faults, tmp_path):
    results = check(faults.kill_scenarios(tmp_path, {"retrieval", "generation", "training",
                                                     "evaluation"}))
    assert all(r["killed"] and r["examples_lost"] == 0 and r["duplicate_calls"] == 0 for r in results)


def test_bad_input_exits_2_and_writes_nothing(faults, tmp_path):
    assert len(check(faults.bad_input_scenarios(tmp_path))) == len(faults.BAD)


def test_key_never_written_and_injected_rows_change_no_decision(faults, tmp_path):
    results = check(faults.security_scenarios(tmp_path))
    assert results[0]["calls_clean"] == results[0]["calls_hostile"] and results[0]["obeyed"] == 0
    assert results[0]["decisions_changed"] == 0 and results[0]["calls_clean"]


def test_random_kills_and_crashes_in_rename_windows_lose_nothing(faults, tmp_path):
    chain = check(faults.chain_scenarios(tmp_path, kills=3, modes=("catalog",)))
    assert chain[0]["kills_landed"] >= 1
    windows = check(faults.window_scenarios(tmp_path, per_kind=1, modes=("catalog",)))
    assert [r["scenario"].split("/")[-1].split(":")[0] for r in windows] == ["replace", "torn", "short"]
    assert all(r["examples_lost"] == 0 and r["duplicate_calls"] == 0 for r in chain + windows)


def test_window_plans_are_distinct(faults):
    import random
    plans = faults.window_plans({"replace": 3, "append": 2}, 6, random.Random(13))
    assert len(plans) == len(set(plans)) == 6 + 2 + 1  # all 6 rename points, both appends, a short run
    assert plans[-1].startswith("short:")
