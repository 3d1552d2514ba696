"""`local` / `local:PATH.gguf`: the embedded LLM, llama.cpp in process.

The model loads once per process and is shared by every LLMs made for it. Structured calls
are decoded under a grammar compiled from the pydantic model's JSON schema, so even a 0.5B
model returns parseable output.
"""
from __future__ import annotations

import atexit
import os
import threading
from collections import Counter
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np

from p2m.llm.llm import LLM, Messages, Reply
from p2m.llm.local_model import MODELS, ModelFile, model_file, resolve_model
from p2m.llm.retry import ContextLengthError

_MODELS: dict[tuple[str, int, int, bool], Any] = {}
_LOAD_LOCK = threading.Lock()
_CALL_LOCK = threading.Lock()  # llama.cpp contexts are not thread-safe
SCORING_CTX = 512  # the scoring context keeps n_ctx x vocabulary logits: 512 x 152k floats, 311 MB
SCORED_TOKENS = 160  # a long task text is scored on its first tokens
# llama.cpp refuses a grammar whose bounded repetition exceeds 2,000 rules ("exceeds sane
# defaults"), and llama-cpp-python then crashes the process (signal 11): a string's maxLength
# of 1,001 already does (a character is 2 rules), 1,000 passes. Bounds above are lowered to it.
MAX_GRAMMAR_REPEAT = 1000


def threads() -> int:
    return max(1, int(os.environ.get("P2M_THREADS", "1")))


def grammar_safe(schema: Any) -> Any:
    """`schema` with every maxLength / maxItems above MAX_GRAMMAR_REPEAT lowered to it: a
    grammar llama.cpp compiles. Only stricter, so a reply still validates against the original."""
    if isinstance(schema, list):
        return [grammar_safe(v) for v in schema]
    if not isinstance(schema, dict):
        return schema
    return {k: min(v, MAX_GRAMMAR_REPEAT) if k in ("maxLength", "maxItems") and isinstance(v, int)
            else grammar_safe(v) for k, v in schema.items()}


def load_llama(path: Path, n_ctx: int = 4096, n_threads: Optional[int] = None,
               logits_all: bool = False) -> Any:
    """The llama.cpp model for `path`, loaded once per process (per context shape)."""
    n_threads = n_threads or threads()
    key = (str(path), n_ctx, n_threads, logits_all)
    with _LOAD_LOCK:
        if key not in _MODELS:
            try:
                from llama_cpp import Llama
            except ImportError as exc:
                raise RuntimeError(
                    "the local LLM needs llama-cpp-python: pip install -e '.[local]'"
                ) from exc
            llama = Llama(model_path=str(path), n_ctx=n_ctx, n_threads=n_threads,
                          n_threads_batch=n_threads, verbose=False, seed=0, logits_all=logits_all)
            if not _MODELS:
                atexit.register(close_models)
            _MODELS[key] = llama
        return _MODELS[key]


def close_models() -> None:
    """Free every loaded model while the interpreter is whole: a Llama left to the garbage
    collector at exit is freed after the modules it needs are gone (llama-cpp-python #806)."""
    with _LOAD_LOCK:
        for llama in _MODELS.values():
            llama.close()
        _MODELS.clear()


def model_params_without_extra_bufts() -> None:
    """Turn off llama.cpp's extra buffer types (AMX/repacked weights) for every model loaded.

    On CPUs with AMX the repacking crashes on any prompt longer than one token, and the
    Python binding exposes no argument for it; the field lives in llama_model_params.
    """
    import llama_cpp.llama_cpp as bindings  # the module Llama.__init__ reads its defaults from

    original = bindings.llama_model_default_params
    if getattr(original, "_p2m_patched", False):
        return

    def params():  # type: ignore[no-untyped-def]
        p = original()
        if hasattr(p, "use_extra_bufts"):
            p.use_extra_bufts = False
        return p

    params._p2m_patched = True  # type: ignore[attr-defined]
    bindings.llama_model_default_params = params


class LocalLLM(LLM):
    backend = "local"
    native_tools = False
    scores_replies = True
    scores_labels = True

    def __init__(self, path: Optional[str] = None, n_ctx: int = 4096, **kwargs: Any):
        super().__init__(**kwargs)
        self.expected: Optional[ModelFile] = None  # a known model, checked against its hash
        if path and path.lower() not in MODELS:
            self.path = Path(path).expanduser()
            if not self.path.is_file():
                raise FileNotFoundError(f"local model file not found: {self.path} "
                                        f"(or name a known size: {', '.join(MODELS)})")
            self.source = "argument"
        else:
            self.expected = model_file(path)
            self.path, self.source = resolve_model(self.expected)
        self.model = self.path.name
        self.n_ctx = n_ctx
        self._llama: Any = None
        self._chat_format: Any = None  # the GGUF's chat template, compiled on first scoring

    @property
    def llama(self) -> Any:
        if self._llama is None:
            model_params_without_extra_bufts()
            self._llama = load_llama(self.path, self.n_ctx)
        return self._llama

    def _chat(self, messages: Messages, *, schema: Optional[dict] = None,
              tools: Optional[Sequence[Any]] = None, temperature: float = 0.0,
              max_tokens: int = 512, seed: int = 0) -> Reply:
        kwargs: dict[str, Any] = dict(messages=messages, temperature=temperature,
                                      max_tokens=max_tokens, seed=seed)
        if schema is not None:
            kwargs["response_format"] = {"type": "json_object", "schema": grammar_safe(schema)}
        with _CALL_LOCK:
            out = self.llama.create_chat_completion(**kwargs)
        usage = out.get("usage") or {}
        return Reply(content=out["choices"][0]["message"].get("content") or "",
                     prompt_tokens=int(usage.get("prompt_tokens", 0)),
                     completion_tokens=int(usage.get("completion_tokens", 0)))

    def continuation_logprob(self, messages: Messages, reply: str) -> float:
        """Mean log-probability per token of `reply` as the model's answer to `messages`: how
        likely the model finds the reply (query likelihood, as UPR reranks passages by the
        likelihood of the question given each passage). The reply is cut to SCORED_TOKENS."""
        scorer = self._scorer()
        prompt = self._formatter()(messages=messages).prompt
        head = scorer.tokenize(prompt.encode(), add_bos=True, special=True)
        tail = scorer.tokenize(reply.strip().encode(), add_bos=False, special=False)
        tail = tail[:SCORED_TOKENS]
        if not tail:
            raise ValueError("nothing to score: the reply is empty")
        if len(head) + len(tail) > scorer.n_ctx():
            raise ContextLengthError(f"{len(head) + len(tail)} tokens to score, the scoring "
                                     f"context holds {scorer.n_ctx()}")
        with _CALL_LOCK:
            scorer.reset()
            scorer.eval(head + tail)
            logits = np.asarray(scorer.scores[len(head) - 1:len(head) + len(tail) - 1],
                                dtype=np.float64)
        top = logits.max(axis=1, keepdims=True)
        log_probs = logits - top - np.log(np.exp(logits - top).sum(axis=1, keepdims=True))
        self.usage.record(self.model, "score", len(head) + len(tail), 0)
        return float(log_probs[np.arange(len(tail)), tail].mean())

    def label_logprobs(self, messages: Messages, answers: Sequence[str]) -> list[float]:
        """Log-probability of each candidate reply to `messages` (a label set's JSON answers,
        '{"label": "positive"}'), from one evaluation of the prompt: the KV cache of the prompt
        prefix it shares with the previous call is kept (the system turn and demonstrations of
        a teacher prompt), the answers' common prefix is evaluated once, and where the answers'
        first differing tokens are distinct, that token decides (a grammar forces the rest);
        answers sharing it are scored token by token after it."""
        llama = self.llama
        prompt = self._formatter()(messages=messages).prompt
        head = llama.tokenize(prompt.encode(), add_bos=True, special=True)
        tails = [llama.tokenize(a.encode(), add_bos=False, special=False) for a in answers]
        if not tails or not all(tails):
            raise ValueError("nothing to score: an answer is empty")
        common = 0
        while all(len(t) > common + 1 and t[common] == tails[0][common] for t in tails):
            common += 1
        shared = head + tails[0][:common]
        if len(shared) + max(len(t) for t in tails) > llama.n_ctx():
            raise ContextLengthError(f"{len(shared)} prompt tokens to score, the context holds {llama.n_ctx()}")
        with _CALL_LOCK:
            first = self._next_logprobs(llama, shared, reuse=True)
            base = llama.n_tokens
            by_first: dict[int, int] = Counter(t[common] for t in tails)
            scores = []
            for tail in tails:
                rest = tail[common:]
                total = float(first[rest[0]])
                if by_first[rest[0]] > 1:  # another answer starts alike: score the rest too
                    llama.n_tokens = base
                    for j in range(1, len(rest)):
                        total += float(self._next_logprobs(llama, rest[j - 1:j])[rest[j]])
                scores.append(total)
        return scores

    @staticmethod
    def _next_logprobs(llama: Any, tokens: list[int], reuse: bool = False) -> Any:
        """Log-softmax of the next-token logits after evaluating `tokens` where the context is
        (with `reuse`, after the longest prefix the context already holds)."""
        if reuse:
            held = llama.input_ids[:llama.n_tokens].tolist()
            keep = 0
            for a, b in zip(held, tokens):
                if a != b:
                    break
                keep += 1
            llama.n_tokens = min(keep, len(tokens) - 1)  # the last token is evaluated for its logits
            tokens = tokens[llama.n_tokens:]
        llama.eval(tokens)
        logits = np.ctypeslib.as_array(llama._ctx.get_logits(), shape=(llama.n_vocab(),)).astype(np.float64)
        top = logits.max()
        return logits - top - np.log(np.exp(logits - top).sum())

    def _scorer(self) -> Any:
        """A second context on the same weights that keeps the logits of every position."""
        model_params_without_extra_bufts()
        return load_llama(self.path, SCORING_CTX, logits_all=True)

    def _formatter(self) -> Any:
        """The GGUF's own chat template, so scoring sees prompts as chat calls do; compiled once
        (a search scores 20 candidates)."""
        if self._chat_format is None:
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter

            llama = self.llama  # the GGUF's metadata: the generation context has it too
            eos = llama.detokenize([llama.token_eos()]).decode(errors="ignore")
            self._chat_format = Jinja2ChatFormatter(
                template=llama.metadata["tokenizer.chat_template"], eos_token=eos, bos_token="",
                add_generation_prompt=True)
        return self._chat_format

    def describe(self) -> dict[str, Any]:
        return {"backend": self.backend, "model": self.model, "path": str(self.path),
                "source": self.source, "threads": threads()}
