"""The real embedded model: multi-token prompts run (AMX repacking off) and output is constrained."""
from typing import Literal

import pytest
from pydantic import BaseModel

from p2m.llm.local_llm import LocalLLM


@pytest.fixture(scope="module")
def llm():
    return LocalLLM()


def test_multi_token_prompt_runs_with_extra_bufts_off(llm):
    # Without use_extra_bufts=False this crashes (segfault) on AMX CPUs for any prompt > 1 token.
    import llama_cpp.llama_cpp as bindings

    reply = llm.text([{"role": "user", "content": "Name three colours of the rainbow."}],
                     purpose="t", max_tokens=24)
    assert reply.strip()
    assert bindings.llama_model_default_params().use_extra_bufts is False


class Review(BaseModel):
    label: Literal["positive", "negative"]
    confidence: int


def test_constrained_decoding_round_trips(llm):
    for i, text in enumerate(["a wonderful film", "boring and far too long", "I loved it",
                              "a waste of time", "charming"]):
        out = llm.structured([{"role": "user", "content": f"Classify: {text}"}], Review,
                             purpose="t", max_tokens=40, temperature=0.8, sample=i)
        assert isinstance(out, Review)
    assert llm.usage.faults.get("invalid_output", 0) == 0


def test_tool_proposal_is_always_a_known_tool(llm):
    from p2m.tools.specs import REGISTRY, build_tools

    decision = llm.propose_tool([{"role": "user", "content": "We have no data yet. Choose a tool."}],
                                build_tools(None))
    assert decision["tool"] in REGISTRY
    REGISTRY[decision["tool"]].parse(decision["args"])  # arguments fit the tool's schema


def test_the_grammar_decodes_only_the_calls_that_are_legal_now(llm, tmp_path):
    """Asked outright for illegal calls (a made-up model, 1000 epochs, scoring before training),
    the embedded model can still only produce a call the state allows, with listed arguments."""
    from p2m.runfolder.context import RunContext
    from p2m.runfolder.trace import TraceWriter
    from p2m.core.config import RunConfig
    from p2m.agent.guard import check
    from p2m.agent.state import initial_state
    from p2m.core.schemas import TaskSpec
    from p2m.tools.specs import offered_tools

    task = TaskSpec(instruction="sentiment", labels=["negative", "positive"])
    ctx = RunContext(run_dir=tmp_path, task=task, config=RunConfig(), llm=None,
                     trace=TraceWriter(tmp_path / "trace.jsonl"), catalog=[])
    state = {**initial_state(), "n_train": 40, "n_test": 10,
             "model": {"name": "sentence-transformers/all-MiniLM-L6-v2"}}
    tools = offered_tools(ctx, state)
    legal = {t.name for t in tools}
    asks = ["Call choose_model with name bert-large-uncased.", "Call train with epochs 1000.",
            "Call evaluate now, then finish."]
    for ask in asks:
        decision = llm.propose_tool([{"role": "user", "content": ask}], tools)
        assert decision["tool"] in legal, (ask, decision)
        assert check(decision, state, ctx) is None, (ask, decision)


def test_model_is_loaded_once(llm):
    other = LocalLLM()
    assert other.llama is llm.llama


def test_continuation_logprob_prefers_the_task_a_card_serves(llm):
    def score(card: str) -> float:
        prompt = (f"Dataset: {card}\n\nWrite one instruction for a task that a model trained on "
                  "this dataset performs.")
        return llm.continuation_logprob([{"role": "user", "content": prompt}],
                                        "Classify the sentiment of a movie review as positive or negative")

    reviews = score("imdb\nMovie reviews from IMDB, each labelled positive or negative.")
    code = score("mbpp\nPython programming problems, each with a solution and three unit tests.")
    assert reviews < 0 and code < 0 and reviews > code + 0.5  # measured: -1.33 vs -2.28
    assert llm.usage.to_dict()["by_purpose"]["score"] >= 2  # scoring calls are accounted
    with pytest.raises(ValueError, match="empty"):
        llm.continuation_logprob([{"role": "user", "content": "hi"}], "  ")


def test_label_scores_give_a_distribution_from_one_prompt_evaluation(llm):
    """Issue 32: the teacher scores every label (first differing token where it decides, token by
    token where labels share it) instead of decoding a JSON answer."""
    from p2m.core.schemas import TaskSpec
    from p2m.tools.scoring.predictions import label_answers, teacher_distributions, teacher_messages

    task = TaskSpec(instruction="Classify the sentiment of a movie review as positive or negative.",
                    labels=["negative", "positive"],
                    examples=[{"input": "a gorgeous, witty, seductive movie.", "output": "positive"},
                              {"input": "a dull, lifeless script.", "output": "negative"}])
    good, bad = teacher_distributions(llm, task, ["an utterly charming, wonderful film.",
                                                  "awful, boring and far too long."])
    assert abs(sum(good.values()) - 1) < 1e-3 and good["positive"] > 0.5 and bad["negative"] > 0.5
    messages = teacher_messages(task, "an utterly charming, wonderful film.")
    alone = llm.label_logprobs(messages, label_answers(task))[1]
    shared_start = llm.label_logprobs(messages, ['{"label": "positive"}', '{"label": "positively"}'])[0]
    assert abs(alone - shared_start) < 0.05  # the first-token shortcut equals the full score


def test_loaded_models_are_closed_before_the_interpreter_tears_down(monkeypatch):
    """A Llama left to the garbage collector at exit is freed after the modules it needs."""
    from p2m.llm import local_llm

    closed = []

    class Model:
        def close(self):
            closed.append(self)

    monkeypatch.setattr(local_llm, "_MODELS", {("a", 1, 1, False): Model(), ("b", 1, 1, False): Model()})
    local_llm.close_models()
    assert len(closed) == 2 and local_llm._MODELS == {}


def test_long_string_bounds_decode_instead_of_crashing_the_process():
    """bench.unseen SQuAD: the generated passage's maxLength of 1,500 made llama.cpp refuse the
    grammar ("exceeds sane defaults") and the process die of signal 11. The bound is lowered for
    the grammar; the reply still validates against the row's own model. Run in a child process,
    as a crash would take the test session with it."""
    import subprocess
    import sys

    code = ("from p2m.llm.local_llm import LocalLLM\n"
            "from p2m.tools.generation.row_shapes import GeneratedQA\n"
            "out = LocalLLM().structured([{'role': 'user', 'content': 'Write a one-sentence passage, a question and its answer. Be brief.'}],"
            " GeneratedQA, purpose='t', max_tokens=400)\n"
            "print('validated', type(out).__name__)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0 and "validated GeneratedQA" in done.stdout, done.stderr[-500:]


def test_grammar_bounds_above_what_llama_cpp_compiles_are_lowered_only():
    from p2m.llm.local_llm import MAX_GRAMMAR_REPEAT, grammar_safe

    schema = {"type": "object", "properties": {
        "context": {"type": "string", "maxLength": 1500}, "answer": {"type": "string", "maxLength": 200},
        "items": {"type": "array", "maxItems": 5000, "items": {"type": "string", "maxLength": 2000}}}}
    safe = grammar_safe(schema)
    props = safe["properties"]
    assert props["context"]["maxLength"] == MAX_GRAMMAR_REPEAT == 1000 and props["answer"]["maxLength"] == 200
    assert props["items"]["maxItems"] == 1000 and props["items"]["items"]["maxLength"] == 1000
    assert schema["properties"]["context"]["maxLength"] == 1500  # the caller's schema is untouched
