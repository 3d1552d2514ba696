"""bench.cascade_bound: a threshold fitted on one half of the rows, checked on the other."""
import random

from bench.cascade_bound import split_check


def rows(n, seed=0):
    """A student that agrees with the teacher when sure (confidence > 0.6) and often errs below."""
    rng = random.Random(seed)
    conf = [rng.random() for _ in range(n)]
    teacher = [rng.choice("ab") for _ in range(n)]
    student = [t if c > 0.6 or rng.random() < 0.5 else ("b" if t == "a" else "a") for c, t in zip(conf, teacher)]
    return conf, student, teacher, list(teacher)


def test_the_fitted_half_keeps_the_bound_on_the_other_half():
    conf, student, teacher, gold = rows(1200)
    line = split_check(conf, student, teacher, gold, 0.02, seed=3)
    assert line["threshold"] is not None and line["threshold"] > 0.55 and line["bound_held"]
    assert line["n_fit"] == line["n_check"] == 600 and 0.2 < line["answered_alone"] < 0.45
    assert line["cascade"] >= 0.99 and line["teacher"] == 1.0 and line["student"] < 0.9  # gold = teacher here
    assert split_check(conf, student, teacher, gold, 0.02, seed=3) == line


def test_too_few_rows_fit_no_threshold_and_the_teacher_answers_all():
    conf, student, teacher, gold = rows(100)
    line = split_check(conf, student, teacher, gold, 0.02, seed=0)
    assert line["threshold"] is None and line["answered_alone"] == 0.0 and line["bound_held"]
    assert line["cascade"] == line["teacher"]
