"""bench.verify_agreement: right rows against wrong ones, scored as the verifier scores them."""
import json

from bench.verify_agreement import kept_share, main


def test_shares_kept_at_a_threshold():
    assert kept_share([0.1, 0.5, 0.9, 0.4], 0.4) == 0.75 and kept_share([], 0.4) == 0.0


def test_code_written_another_way_counts_as_right_and_another_rows_code_as_wrong(tmp_path):
    data = tmp_path / "shared" / "datasets" / "conala_en"
    data.mkdir(parents=True)
    rows = [{"input": f"instruction {i}", "output": code} for i, code in enumerate(
        ["sorted(x)", "len(s)", "' '.join(w)", "a[::-1]", "sum(n)", "max(v)", "d.items()"])]
    (data / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    import random

    drawn = random.Random(1).sample(rows, 7)[3:]  # the bench's draw: 3 demonstrations, then the rows
    variants = {"' '.join(w)": '" ".join(w)', "a[::-1]": "a[: : -1]"}
    script = tmp_path / "script.jsonl"
    script.write_text("".join(json.dumps({"purpose": "verify", "json": {"output": variants.get(r["output"], r["output"])}})
                              + "\n" for r in drawn))
    results = tmp_path / "out.jsonl"
    assert main(["--shared", str(tmp_path / "shared"), "--datasets", "conala_en", "--n", "4",
                 "--llm", f"scripted:{script}", "--results", str(results)]) == 0
    line = json.loads(results.read_text())
    assert line["right_kept"] == 1.0 and line["wrong_kept"] < 0.5 and line["n"] == 4
    assert line["right_kept_exact_match"] <= 1.0 - sum(r["output"] in variants for r in drawn) / 4
