"""Choosing the student: a pretrained model that is really on disk and fits the task family."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

from p2m.core.schemas import ModelChoice, TaskSpec
from p2m.tools.encoders.embed import minilm_path
from p2m.tools.families import family
from p2m.tools.encoders.mpnet import SplitZip, cached_folder, mpnet_path
from p2m.llm.local_model import LocalModelError, ModelFile, cache_dir, resolve_model

# Architectures that take a sequence-classification head on top of an encoder.
ENCODER_TYPES = {"bert", "roberta", "distilbert", "deberta", "deberta-v2", "electra", "xlm-roberta",
                 "albert", "mpnet"}


class ModelChoiceError(ValueError):
    """A requested model that is missing or does not fit the task family."""


def count_params(config: dict) -> int:
    """Parameters of a BERT-style encoder, from its config alone (no weights loaded)."""
    h, layers = config.get("hidden_size", 0), config.get("num_hidden_layers", 0)
    inter, vocab = config.get("intermediate_size", 4 * h), config.get("vocab_size", 0)
    pos, types = config.get("max_position_embeddings", 512), config.get("type_vocab_size", 2)
    embeddings = (vocab + pos + types) * h + 2 * h
    per_layer = 4 * (h * h + h) + 2 * (h * inter) + inter + h + 4 * h
    return embeddings + layers * per_layer + h * h + h


def describe_local(path: str | Path) -> dict:
    config_path = Path(path) / "config.json"
    if not config_path.is_file():
        raise ModelChoiceError(f"{path}: no config.json, not a transformers model directory")
    return json.loads(config_path.read_text(encoding="utf-8"))


MINILM = "sentence-transformers/all-MiniLM-L6-v2"
MPNET = "sentence-transformers/all-mpnet-base-v2"


def local_models() -> dict[str, str]:
    """Models really on disk, by Hub name: the packaged MiniLM, the assembled GGUF and mpnet,
    and the Hugging Face cache."""
    found = {MINILM: minilm_path()}

    gguf = cache_dir() / ModelFile().filename  # the embedded decoder, once assembled
    if gguf.is_file():
        found["Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF"] = str(gguf)
    mpnet = cached_folder()  # all-mpnet-base-v2, once assembled from its carriers
    if mpnet is not None:
        found[MPNET] = str(mpnet)
    try:
        from huggingface_hub import scan_cache_dir

        for repo in scan_cache_dir().repos:
            if repo.repo_type == "model" and repo.revisions:
                newest = max(repo.revisions, key=lambda r: r.last_modified)
                found.setdefault(repo.repo_id, str(newest.snapshot_path))
    except Exception:  # no cache directory yet, or an unreadable one: only the packaged model
        pass
    return found


def resolve_local(requested: str, known: Optional[dict[str, str]] = None) -> Path:
    """A model directory for a local path, a Hub name on disk, or its short name."""
    known = local_models() if known is None else known
    by_short = {name.rsplit("/", 1)[-1].lower(): path for name, path in known.items()}
    if requested in known:
        return Path(known[requested])
    if requested.lower() in by_short:
        return Path(by_short[requested.lower()])
    path = Path(requested).expanduser()
    if path.is_dir():
        return path
    raise ModelChoiceError(f"unknown model {requested!r}: not a local model directory and not on "
                           f"disk (available: {', '.join(sorted(known))})")


DECODER_TYPES = {"gpt2", "qwen2", "llama", "mistral", "phi", "phi3", "gemma", "gemma2", "gemma3",
                 "gpt_neox", "opt", "bloom", "smollm3", "granite"}


def local_decoder() -> ModelChoice:
    """The embedded Qwen2.5-Coder-0.5B GGUF: transformers loads it dequantised, LoRA tunes it."""
    path, _ = resolve_model(allow_network=False)
    return ModelChoice(name="Qwen/Qwen2.5-Coder-0.5B-Instruct (GGUF, dequantised)", path=str(path),
                       family="decoder", params=494_032_768,
                       reason="the only pretrained decoder on local disk; a code model, fit for "
                              "text-to-code and short text-to-text; tuned with LoRA on a CPU")


def choose_decoder(task: TaskSpec, requested: Optional[str]) -> ModelChoice:
    if not requested:
        return local_decoder()
    path = Path(requested).expanduser()
    if path.suffix == ".gguf" and path.is_file():
        return ModelChoice(name=path.name, path=str(path), family="decoder", reason="requested by the user")
    path = resolve_local(requested)
    if path.suffix == ".gguf":
        return ModelChoice(name=requested, path=str(path), family="decoder", reason="requested by the user")
    config = describe_local(path)
    if config.get("model_type") not in DECODER_TYPES:
        raise ModelChoiceError(f"{requested}: model type {config.get('model_type')!r} does not fit "
                               f"{task.task_type}; a decoder ({', '.join(sorted(DECODER_TYPES))}) is needed")
    return ModelChoice(name=path.name, path=str(path), family="decoder", reason="requested by the user")


def choose_model(task: TaskSpec, requested: Optional[str] = None) -> ModelChoice:
    """The student for `task`: `requested` if given and suitable, else the local default of its
    family (all-MiniLM-L6-v2 for encoder tasks, the local Qwen2.5-Coder for text-to-text)."""
    if not family(task.task_type).encoder:
        return choose_decoder(task, requested)
    if requested:
        known = local_models()  # scans the Hugging Face cache: once per choice
        if requested in (MPNET, SplitZip().name) and MPNET not in known:
            try:  # installed carriers, not yet assembled: assemble (size and sha256 checked)
                known[MPNET] = str(mpnet_path())
            except LocalModelError as exc:
                raise ModelChoiceError(f"{requested}: {exc}") from exc
        path = resolve_local(requested, known)
        config = describe_local(path)
        if config.get("model_type") not in ENCODER_TYPES:
            raise ModelChoiceError(
                f"{requested}: model type {config.get('model_type')!r} does not fit "
                f"{task.task_type}; an encoder ({', '.join(sorted(ENCODER_TYPES))}) is needed")
        name = requested if requested in known else path.name
        return ModelChoice(name=name, path=str(path), family="encoder",
                           params=count_params(config), reason="requested by the user")
    path = minilm_path()
    return ModelChoice(
        name=MINILM, path=path, family="encoder",
        params=count_params(describe_local(path)),
        reason="a 6-layer English encoder on local disk (22M parameters): fast to fine-tune on a CPU "
               "and strong on sentence-level classification",
    )
