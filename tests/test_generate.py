from p2m.llm.scripted_llm import ScriptedLLM
from p2m.core.schemas import Example, TaskSpec
from p2m.tools.generation.generate import BLOCK, SHARE_CAP, call_order, generate_examples, label_plan, temperature_for

TASK = TaskSpec(instruction="Classify sentiment", labels=["negative", "positive"],
                examples=[{"input": "great", "output": "positive"}, {"input": "awful", "output": "negative"}])


def test_label_conditioned_balanced_and_deduplicated():
    replies = [{"json": {"input": "a truly moving story"}}, {"json": {"input": "dull and lifeless"}},
               {"json": {"input": "A truly moving story"}},            # exact duplicate (case)
               {"content": "{broken"},                                 # invalid JSON
               {"json": {"input": ""}},                                # empty
               {"json": {"input": "the cast shines in every scene"}}]
    llm = ScriptedLLM(replies)
    result = generate_examples(TASK, llm, 6, existing=[], concurrency=1)
    inputs = [e.input for e in result.kept]
    assert inputs == ["a truly moving story", "dull and lifeless", "the cast shines in every scene"]
    # Labels cycle over samples (0 neg, 1 pos, ...), and a block's calls are grouped by label:
    # samples 0, 2, 4 (negative) are asked first, then 1, 3, 5 (positive).
    assert [e.output for e in result.kept] == ["negative", "negative", "positive"]
    assert result.dropped == {"exact_duplicate": 1, "LLMOutputError": 1, "empty": 1}
    assert all(e.source["kind"] == "generated" and "sample" in e.source for e in result.kept)


def test_near_duplicates_are_dropped():
    existing = [Example(input="the movie was absolutely wonderful", output="positive",
                        source={"kind": "user"})]
    llm = ScriptedLLM([{"json": {"input": "the movie was absolutely wonderful!"}},
                       {"json": {"input": "tax policy in the eurozone"}}])
    result = generate_examples(TASK, llm, 2, existing=existing, concurrency=1, first_sample=1)
    assert [e.input for e in result.kept] == ["tax policy in the eurozone"]
    assert result.dropped == {"near_duplicate": 1}


def test_holdout_and_error_driven_prompts():
    llm = ScriptedLLM([{"json": {"input": f"sentence number {i} about {w}"}}
                       for i, w in enumerate(["cats", "tax law", "rockets", "opera", "soup"])])
    failures = [{"input": "not bad at all", "expected": "positive", "predicted": "negative"}]
    result = generate_examples(TASK, llm, 5, existing=[], concurrency=1, failures=failures, holdout_every=5)
    assert [e.split for e in result.kept].count("validation") == 1  # never "test"
    assert all(e.output == "positive" for e in result.kept)  # conditioned on the failure's gold label
    prompt = llm.seen[0][0]["content"]
    assert "<<<not bad at all>>>" in prompt and 'answered "negative" where "positive" is right' in prompt


def test_temperature_schedule():
    assert [temperature_for(i) for i in range(5)] == [0.7, 0.8, 0.9, 1.0, 0.7]


def test_text2text_pairs():
    task = TaskSpec(instruction="Translate to French", task_type="text2text")
    llm = ScriptedLLM([{"json": {"input": "hello", "output": "bonjour"}}])
    result = generate_examples(task, llm, 1, existing=[], concurrency=1)
    assert (result.kept[0].input, result.kept[0].output) == ("hello", "bonjour")


def test_self_consistency_keeps_agreed_rows_drops_disagreements_and_split_votes():
    task = TaskSpec(instruction="Classify sentiment", labels=["negative", "neutral", "positive"],
                    examples=TASK.examples)
    gen = [{"purpose": "generate", "json": {"input": "a sad, slow film"}},        # asked as negative
           {"purpose": "generate", "json": {"input": "a film, two hours long"}},  # asked as neutral
           {"purpose": "generate", "json": {"input": "a joyful triumph"}}]        # asked as positive
    votes = [{"purpose": "verify", "json": {"label": x}}
             for x in ("negative", "negative", "positive",   # 2 of 3 agree: kept
                       "positive", "positive", "negative",   # most say positive: dropped
                       "negative", "neutral", "positive")]   # no majority: dropped
    result = generate_examples(task, ScriptedLLM(gen + votes), 3, existing=[], concurrency=1,
                               verify_votes=3)
    assert [(e.input, e.output) for e in result.kept] == [("a sad, slow film", "negative")]
    assert result.kept[0].source["agreement"] == 0.667
    assert result.dropped == {"verifier_disagrees": 1, "low_agreement": 1}
    assert result.verified == {"votes_per_row": 3, "rows": 3, "mean_agreement": 0.333}


def test_votes_without_a_majority_drop_the_row():
    gen = [{"purpose": "generate", "json": {"input": "a joyful triumph"}}]  # asked as negative
    votes = [{"purpose": "verify", "json": {"label": "positive"}}, {"purpose": "verify", "content": "{bad"}]
    result = generate_examples(TASK, ScriptedLLM(gen + votes), 1, existing=[], concurrency=1, verify_votes=2)
    assert result.kept == [] and result.dropped == {"low_agreement": 1}  # 1 of 2 votes is no majority


def test_a_round_stops_writing_at_its_deadline():
    import time

    llm = ScriptedLLM([{"json": {"input": "a truly moving story"}}])
    late = generate_examples(TASK, llm, 4, existing=[], concurrency=1, deadline=time.monotonic() - 1)
    assert late.kept == [] and late.dropped == {"out_of_time": 4} and llm.usage.calls == 0
    kept = generate_examples(TASK, llm, 1, existing=[], concurrency=1, deadline=time.monotonic() + 60)
    assert [e.input for e in kept.kept] == ["a truly moving story"]


def test_calls_are_grouped_by_fold_and_label_within_blocks():
    jobs = [(i, i, "ab"[i % 2], None, i // 2 % 2) for i in range(2 * BLOCK * 4)]
    ordered = call_order(jobs, cycle=4)
    assert sorted(ordered) == sorted(jobs)
    block = ordered[:BLOCK * 4]
    assert {j[1] for j in block} == set(range(BLOCK * 4))  # a block holds its own samples only
    groups = [(j[4], j[2]) for j in block]
    assert groups == sorted(groups) and len(set(groups)) == 4  # every fold x label, back to back


def test_written_inputs_are_capped_by_the_demonstrations_length():
    long_tail = "It broke on day one. " + "Then it got worse and worse " * 10
    llm = ScriptedLLM([{"json": {"input": long_tail}}, {"json": {"input": "word " * 80}},
                       {"json": {"input": "fine, short and sweet"}}])
    result = generate_examples(TASK, llm, 3, existing=[], concurrency=1)
    schema = llm.schemas[0]
    assert schema["properties"]["input"]["maxLength"] == 80  # 2 x 5 characters, raised to the floor
    assert [e.input for e in result.kept] == ["It broke on day one.", "fine, short and sweet"]
    assert result.kept[0].source["trimmed"] is True and "trimmed" not in result.kept[1].source
    assert result.dropped == {"too_long": 1}  # no sentence ends within the limit


def test_calls_go_to_the_labels_with_fewest_rows():
    labels = ["a", "b", "c"]
    rows = lambda counts: [Example(input=f"{label}{i}", output=label, source={"kind": "user"})
                           for label, k in counts.items() for i in range(k)]
    # Even counts: the plain cycle from first_sample, as before.
    assert label_plan(labels, rows({"a": 2, "b": 2, "c": 2}), 6, first_sample=4) == list("bcabca")
    # "c" kept 1 row where the others kept 9: the next round fills it first, then cycles.
    plan = label_plan(labels, rows({"a": 9, "b": 9, "c": 1}), 15)
    assert plan[:8] == ["c"] * 8 and plan[8:] == list("abcabca")
    # No label takes more than SHARE_CAP even shares of a round, however far behind it is.
    plan = label_plan(labels, rows({"a": 50, "b": 50}), 9)
    assert plan.count("c") == SHARE_CAP * 3 and len(plan) == 9
    # Test rows are not training data: they do not count.
    test_rows = [r.model_copy(update={"split": "test"}) for r in rows({"a": 5})]
    assert label_plan(labels, test_rows, 3) == labels


def test_a_scoring_teacher_verifies_by_its_distribution_and_the_row_keeps_it():
    """Issue 32: with a teacher that scores labels, a row is kept when its label has more than
    half the probability, and carries the distribution (the student's soft targets)."""
    gen = [{"purpose": "generate", "json": {"input": "a sad, slow film"}},       # asked as negative
           {"purpose": "generate", "json": {"input": "a joyful triumph"}}]       # asked as positive
    probs = [{"purpose": "verify", "probs": {"negative": 0.8, "positive": 0.2}},
             {"purpose": "verify", "probs": {"negative": 0.9, "positive": 0.1}}]  # disputes row 2
    result = generate_examples(TASK, ScriptedLLM(gen + probs), 2, existing=[], concurrency=1, verify_votes=1)
    assert [(e.input, e.output) for e in result.kept] == [("a sad, slow film", "negative")]
    assert result.kept[0].source["teacher_probs"] == {"negative": 0.8, "positive": 0.2}
    assert result.dropped == {"verifier_disagrees": 1} and result.verified["votes_per_row"] == "distribution"


def test_close_labels_split_by_the_teacher_are_kept_first_choice_or_relabelled():
    """Issue 34: with close labels the teacher's mass spreads; a row whose label is its first
    choice is kept, a row in a split where another label is first is relabelled by the
    distribution (not dropped); a row another label holds most of the mass of is dropped."""
    task = TaskSpec(instruction="Route a banking request", labels=["card_lost", "card_stolen", "card_blocked"],
                    examples=[{"input": "I lost my card", "output": "card_lost"},
                              {"input": "someone took my card", "output": "card_stolen"},
                              {"input": "my card stopped working", "output": "card_blocked"}])
    gen = [{"purpose": "generate", "json": {"input": f"request {i}"}} for i in range(3)]
    split = {"card_lost": 0.45, "card_stolen": 0.35, "card_blocked": 0.2}
    probs = [{"purpose": "verify", "probs": p} for p in (split, split, {"card_lost": 0.1, "card_stolen": 0.1,
                                                                        "card_blocked": 0.8})]
    result = generate_examples(task, ScriptedLLM(gen + probs), 3, existing=[], concurrency=1, verify_votes=1)
    by_label = {e.source["conditioned_on"]: e for e in result.kept}
    written = {e.source["conditioned_on"] for e in result.kept}
    # verified in call order: the card_blocked row, the card_lost row, the card_stolen row
    assert len(result.kept) == 2 and result.dropped == {"verifier_disagrees": 1}  # stolen: blocked has 0.8
    assert written == {"card_lost", "card_blocked"}
    assert by_label["card_lost"].output == "card_lost" and "original_label" not in by_label["card_lost"].source
    moved = next(e for e in result.kept if e.source["conditioned_on"] != "card_lost")
    assert moved.output == "card_lost" and moved.source["original_label"] == moved.source["conditioned_on"]
    assert moved.source["teacher_probs"] == split and result.verified["relabelled"] == 1


def test_free_text_rows_are_verified_by_the_family_metric_not_exact_match():
    """Issue 34: correct code written another way was dropped as low agreement (exact string
    match); by chrF++ it is kept, and a wrong answer still drops the row."""
    task = TaskSpec(instruction="Write the Python for the instruction", task_type="text2text",
                    examples=[{"input": "sort list x", "output": "sorted(x)"},
                              {"input": "length of s", "output": "len(s)"}])
    gen = [{"purpose": "generate", "json": {"input": "reverse list a", "output": "a[::-1]"}},
           {"purpose": "generate", "json": {"input": "join words w with spaces", "output": "' '.join(w)"}},
           {"purpose": "generate", "json": {"input": "sum of list n", "output": "sum(n"}}]  # does not parse
    votes = [{"purpose": "verify", "json": {"output": "a[::-1] "}},
             {"purpose": "verify", "json": {"output": '" ".join(w)'}},
             {"purpose": "verify", "json": {"output": "sum(n)"}}]
    result = generate_examples(task, ScriptedLLM(gen + votes), 3, existing=[], concurrency=1, verify_votes=1)
    assert [e.output for e in result.kept] == ["a[::-1]", "' '.join(w)"]
    assert result.dropped == {"code_does_not_parse": 1}
    wrong = [{"purpose": "generate", "json": {"input": "reverse list a", "output": "a[::-1]"}},
             {"purpose": "verify", "json": {"output": "print('hello world')"}}]
    result = generate_examples(task, ScriptedLLM(wrong), 1, existing=[], concurrency=1, verify_votes=1)
    assert result.kept == [] and result.dropped == {"low_agreement": 1}


def test_qa_and_ner_rows_are_written_in_their_structure_and_checked_against_it():
    """Issue 34 item 2: QA generation writes a context, a question and an answer copied from the
    context; NER a sentence with typed spans of it. A row that breaks its structure is dropped."""
    qa = TaskSpec(instruction="Answer from the context", task_type="extractive_qa",
                  examples=[{"input": "Context: Bern is the Swiss capital.\nQuestion: What is the Swiss capital?",
                             "output": "Bern"}])
    replies = [{"purpose": "generate", "json": {"context": "The Nile flows north into the sea.",
                                                "question": "Which way does the Nile flow?", "answer": "north"}},
               {"purpose": "generate", "json": {"context": "Rome has many fountains.",
                                                "question": "What does Rome have?", "answer": "ancient walls"}}]
    result = generate_examples(qa, ScriptedLLM(replies), 2, existing=[], concurrency=1)
    assert [(e.input, e.output) for e in result.kept] == [
        ("Context: The Nile flows north into the sea.\nQuestion: Which way does the Nile flow?", "north")]
    assert result.dropped == {"answer_not_in_context": 1}
    ner = TaskSpec(instruction="Tag people and places", task_type="ner", labels=["person", "location"],
                   examples=[{"input": "Ada lived in London", "output": "person: Ada; location: London"}])
    replies = [{"purpose": "generate", "json": {"sentence": "Marie moved to Paris",
                                                "entities": [{"type": "person", "text": "Marie"},
                                                             {"type": "location", "text": "Paris"}]}},
               {"purpose": "generate", "json": {"sentence": "Bob cooked dinner",
                                                "entities": [{"type": "person", "text": "Alice"}]}}]
    llm = ScriptedLLM(replies)
    result = generate_examples(ner, llm, 2, existing=[], concurrency=1)
    assert [(e.input, e.output) for e in result.kept] == [("Marie moved to Paris", "person: Marie; location: Paris")]
    assert result.dropped == {"span_not_in_sentence": 1}
    assert "Entity types: location, person." in llm.seen[0][0]["content"]


def test_a_qa_answer_that_is_no_span_takes_the_verifiers_span_when_they_agree():
    """bench.unseen SQuAD: 36 of 80 first-round rows were dropped because the written answer was
    a sentence, not a span of its passage. The verifier's answer replaces it when that is a span
    and agrees with it (token F1 at AGREE); an answer it contradicts still drops the row."""
    qa = TaskSpec(instruction="Answer from the context", task_type="extractive_qa",
                  examples=[{"input": "Context: Bern is the Swiss capital.\nQuestion: What is the Swiss capital?",
                             "output": "Bern"}])
    gen = [{"purpose": "generate", "json": {"context": "The court has nine justices appointed for life.",
                                            "question": "How many justices does the court have?",
                                            "answer": "The court has 9 justices in total."}},
           {"purpose": "generate", "json": {"context": "The bridge opened in 1932 after six years of work.",
                                            "question": "When did the bridge open?",
                                            "answer": "It opened in the year 1930."}},
           {"purpose": "generate", "json": {"context": "Ada wrote the first program.",
                                            "question": "Who wrote the first program?", "answer": "Ada"}}]
    votes = [{"purpose": "verify", "json": {"output": "nine justices"}},   # a span sharing "justices"
             {"purpose": "verify", "json": {"output": "1932"}},            # a span, but no word in common
             {"purpose": "verify", "json": {"output": "Ada"}}]
    result = generate_examples(qa, ScriptedLLM(gen + votes), 3, existing=[], concurrency=1, verify_votes=1)
    assert [e.output for e in result.kept] == ["nine justices", "Ada"]
    respanned = result.kept[0].source
    assert respanned["relabelled_by"] == "verifier span" and respanned["original_output"].startswith("The court")
    assert "unspanned" not in respanned and result.verified["respanned"] == 1
    assert result.dropped == {"answer_not_in_context": 1}
    assert "unspanned" not in result.rejected[0].source
    unverified = generate_examples(qa, ScriptedLLM(gen[:1]), 1, existing=[], concurrency=1)  # no votes: dropped
    assert unverified.kept == [] and unverified.dropped == {"answer_not_in_context": 1}


def test_written_rows_that_are_dropped_are_kept_aside_with_their_reason():
    """Issue 36 item 2: the rows a round dropped can be read, each with why."""
    gen = [{"purpose": "generate", "json": {"input": "a sad, slow film"}},       # asked as negative
           {"purpose": "generate", "json": {"input": "a joyful triumph"}}]       # asked as positive
    probs = [{"purpose": "verify", "probs": {"negative": 0.8, "positive": 0.2}},
             {"purpose": "verify", "probs": {"negative": 0.9, "positive": 0.1}}]
    result = generate_examples(TASK, ScriptedLLM(gen + probs), 2, existing=[], concurrency=1, verify_votes=1)
    assert [(e.input, e.source["drop_reason"]) for e in result.rejected] == [("a joyful triumph", "verifier_disagrees")]
    assert result.rejected[0].source["teacher_probs"] == {"negative": 0.9, "positive": 0.1}
