"""Writes dates.gold.jsonl: date expressions and their ISO 8601 form, labelled by this code (not
by an LLM), for bench.unseen's dates task. Run once (2026-12-08, seed 0) before any run read them:
    python bench/tasks/make_dates.py"""
import datetime
import json
import random
from pathlib import Path


def ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


FORMATS = [
    lambda d: d.strftime("%B ") + str(d.day) + d.strftime(", %Y"),          # March 5, 2021
    lambda d: str(d.day) + d.strftime(" %B %Y"),                            # 5 March 2021
    lambda d: f"the {ordinal(d.day)} of {d:%B} {d.year}",                   # the 5th of March 2021
    lambda d: d.strftime("%a %b ") + str(d.day) + d.strftime(" %Y"),        # Fri Mar 5 2021
    lambda d: f"{d:%A}, {ordinal(d.day)} {d:%B}, {d.year}",                 # Friday, 5th March, 2021
    lambda d: d.strftime("%Y.%m.%d"),                                       # 2021.03.05
]

if __name__ == "__main__":
    rng = random.Random(0)
    start = datetime.date(1950, 1, 1).toordinal()
    rows = []
    for i in range(60):
        day = datetime.date.fromordinal(start + rng.randrange(80 * 365))
        rows.append({"input": FORMATS[i % len(FORMATS)](day), "output": day.isoformat()})
    rng.shuffle(rows)
    out = Path(__file__).with_name("dates.gold.jsonl")
    out.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
