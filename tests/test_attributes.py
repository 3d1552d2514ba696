"""Attribute-conditioned generation: subjects proposed per round, drawn per call, diversity measured."""
from p2m.agent.scripted_llm import ScriptedLLM
from p2m.schemas import TaskSpec
from p2m.tools.attributes import demo_lengths, describe, distinct_2, draw, propose_subjects
from p2m.tools.generate import generate_examples

TASK = TaskSpec(instruction="Sentiment of a movie review", labels=["negative", "positive"],
                examples=[{"input": "a dull film", "output": "negative"},
                          {"input": "a moving film", "output": "positive"}])


def test_subjects_are_deduplicated_and_a_failure_gives_none():
    llm = ScriptedLLM([{"purpose": "attributes", "json": {"subjects": ["Acting", "acting ", "the score"]}}])
    assert propose_subjects(TASK, llm, "positive") == ["Acting", "the score"]
    assert "a moving film" in llm.seen[-1][0]["content"]  # the label's demonstrations are shown
    assert propose_subjects(TASK, ScriptedLLM([]), "positive") == []


def test_draws_are_repeatable_per_call_and_vary_across_calls():
    subjects = [f"s{i}" for i in range(12)]
    assert draw(subjects, 7) == draw(subjects, 7)
    assert len({tuple(draw(subjects, i).values()) for i in range(20)}) > 10
    assert describe(draw(subjects, 3)).startswith("This time write it about s")
    assert "subject" not in draw([], 3) and describe(None) == ""


def test_distinct_2():
    assert distinct_2(["a b c", "d e f"]) == 1.0
    assert distinct_2(["a b", "a b"]) == 0.5


def test_generation_prompts_carry_the_drawn_attributes_and_rows_record_them():
    llm = ScriptedLLM([{"purpose": "generate", "json": {"input": "a sad, slow film"}},
                       {"purpose": "generate", "json": {"input": "a joyful triumph"}}])
    result = generate_examples(TASK, llm, 2, existing=[], concurrency=1,
                               subjects={"negative": ["the pacing"], "positive": ["the cast"]})
    prompts = [m[0]["content"] for m in llm.seen]
    assert any("about the pacing" in p for p in prompts) and any("about the cast" in p for p in prompts)
    assert {r.source["attributes"]["subject"] for r in result.kept} == {"the pacing", "the cast"}
    assert result.distinct_2 == 1.0


def test_later_rounds_avoid_earlier_subjects_and_demonstration_copies():
    llm = ScriptedLLM([{"purpose": "attributes",
                        "json": {"subjects": ["acting", "A moving film", "the soundtrack", "ending."]}}])
    got = propose_subjects(TASK, llm, "positive", avoid=["Acting"], round_no=1)
    assert got == ["the soundtrack", "ending"]  # "acting" was used, the demonstration is no subject
    assert "used already: Acting" in llm.seen[-1][0]["content"]


def test_lengths_follow_the_demonstrations():
    task = TaskSpec(instruction="question type", labels=["x", "y"],
                    examples=[{"input": "what is the capital of peru ?", "output": "x"}])
    words = [int(draw(["s"], i, demo_lengths(task))["length"].split()[1]) for i in range(50)]
    assert min(words) >= 4 and max(words) <= 11  # 7 words x 0.6-1.6
    assert "about" in describe(draw(["s"], 1, [6]))
