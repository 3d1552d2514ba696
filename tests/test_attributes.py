"""Attribute-conditioned generation: subjects proposed per round, drawn per call, diversity measured."""
from p2m.llm.scripted_llm import ScriptedLLM
from p2m.core.schemas import TaskSpec
from p2m.tools.generation.attributes import (MAX_CHARS, MIN_CHARS, demo_lengths, describe, distinct_2, draw, max_chars,
                                  propose_subjects, trim_to_sentence)
from p2m.tools.generation.generate import generate_examples

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


def test_the_length_limit_follows_the_longest_demonstration_within_bounds():
    assert max_chars(TASK) == MIN_CHARS  # 2 x 13 characters, raised to the floor
    long_demo = TaskSpec(instruction="x", labels=["a", "b"], examples=[{"input": "w" * 150, "output": "a"}])
    assert max_chars(long_demo) == 300
    huge = TaskSpec(instruction="x", labels=["a", "b"], examples=[{"input": "w" * 900, "output": "a"}])
    assert max_chars(huge) == MAX_CHARS
    assert max_chars(TaskSpec(instruction="x", labels=["a", "b"])) == MAX_CHARS


def test_trimming_keeps_whole_sentences_only():
    assert trim_to_sentence("Short enough.", 40) == "Short enough."
    text = 'It works well. The price was fair! Then the version 3.5 update broke'
    assert trim_to_sentence(text, 60) == "It works well. The price was fair!"
    assert trim_to_sentence('He said "it is fine." And then', 28) == 'He said "it is fine."'
    assert trim_to_sentence("Ok. and then it went on and on", 20) == ""  # under three words left
    assert trim_to_sentence("no sentence ends here at all", 20) == ""
    phrase = "a warm , funny and deeply human portrait of grief ; and then it went on"
    assert trim_to_sentence(phrase, 60) == "a warm , funny and deeply human portrait of grief"
    assert trim_to_sentence("slow and dull - but the score is lovely and", 40) == "slow and dull"
    assert trim_to_sentence("bad, and then it went on and on", 20) == ""  # one word before the comma
