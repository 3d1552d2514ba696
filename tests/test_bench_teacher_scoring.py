"""bench.teacher_scoring: its development rows are train rows, seeded, never a demonstration."""
from bench.teacher_scoring import dev_rows


def test_dev_rows_are_seeded_and_leave_the_demonstrations_out():
    train = [{"input": f"row {i}", "output": "a"} for i in range(40)]
    demos = [train[3], train[7]]
    rows = dev_rows(train, demos, 20)
    assert len(rows) == 20 and not {"row 3", "row 7"} & {r["input"] for r in rows}
    assert rows == dev_rows(train, demos, 20)
