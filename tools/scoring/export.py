"""Saving what a run made: the model card beside the weights."""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from p2m.core.schemas import TaskSpec
from p2m.tools.scoring.cascade import load_threshold
from p2m.tools.families import FAMILIES, family
from p2m.runfolder.run_files import CASCADE


def write_model_card(model_dir: str | Path, task: TaskSpec, base_model: str,
                     data_counts: dict[str, int], sources: list[str], metrics: dict[str, Any]) -> Path:
    """README.md in the model directory: task, base model, data provenance and metrics."""
    model_dir = Path(model_dir)
    labels = ", ".join(task.labels or []) or "-"
    lines = [
        "---", "library_name: transformers", f"base_model: {base_model}",
        f"pipeline_tag: {family(task.task_type).pipeline_tag}",
        "tags: [p2m]", "---", "",
        "# Model trained by p2m", "",
        "## Task", "", task.instruction, "",
        f"- task type: {task.task_type}", f"- labels: {labels}",
        f"- target: {task.target.metric} >= {task.target.value}" if task.target else "- target: none", "",
        "## Training data", "",
        f"- training rows: {data_counts.get('train', 0)} (retrieved {data_counts.get('retrieved', 0)}, "
        f"generated {data_counts.get('generated', 0)}, user {data_counts.get('user', 0)})",
        f"- test rows: {data_counts.get('test', 0)}",
        f"- sources: {', '.join(sources) or '-'}",
        "- every row's provenance is in the run's data/examples.jsonl", "",
        "## Evaluation", "", "```json", json.dumps(metrics, indent=2), "```", "",
    ]
    path = model_dir / "README.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def export_onnx(model_dir: str | Path, out: str | Path, task_type: str, opset: int = 17,
                check: bool = True) -> dict[str, Any]:
    """The encoder model of a run as ONNX (dynamic batch and length), checked against PyTorch.

    Encoder families only (classification, extractive QA, NER); a decoder is better served by
    llama.cpp/GGUF or optimum. The file is written to a temporary name and renamed when valid.
    """
    import numpy as np
    import torch
    import transformers

    fam = family(task_type)
    if fam.export_head is None:
        heads = sorted(f.name for f in FAMILIES.values() if f.export_head)
        raise ValueError(f"ONNX export covers encoder tasks {heads}, not {task_type!r}")
    model_dir, out = Path(model_dir), Path(out)
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(model_dir))
    model = getattr(transformers, fam.export_head).from_pretrained(str(model_dir)).eval()
    sample = tokenizer(["an example sentence for tracing", "short"], return_tensors="pt", padding=True)
    names = ["input_ids", "attention_mask"]
    outputs = list(fam.export_outputs)
    axes = {n: {0: "batch", 1: "sequence"} for n in names}
    axes.update({n: {0: "batch"} for n in outputs})
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".partial")
    torch.onnx.export(model, (sample["input_ids"], sample["attention_mask"]), str(tmp),
                      input_names=names, output_names=outputs, dynamic_axes=axes, opset_version=opset,
                      dynamo=False)
    result: dict[str, Any] = {"path": str(out), "opset": opset, "bytes": tmp.stat().st_size}
    if check:
        import onnxruntime as ort

        session = ort.InferenceSession(str(tmp))
        probe = tokenizer(["a different probe sentence, longer than the first one", "ok"],
                          return_tensors="np", padding=True)
        got = session.run(None, {n: probe[n] for n in names})[0]
        with torch.inference_mode():
            want = model(**{n: torch.tensor(probe[n]) for n in names})[0].numpy()
        result["max_abs_diff"] = float(np.abs(got - want).max())
        if result["max_abs_diff"] > 1e-3:
            tmp.unlink()
            raise ValueError(f"ONNX outputs differ from PyTorch by {result['max_abs_diff']:.2e}")
    tmp.replace(out)
    tokenizer.save_pretrained(str(out.parent))
    for name in ("README.md", CASCADE):  # the card and the cascade's threshold go along
        if (model_dir / name).is_file() and model_dir.resolve() != out.parent.resolve():
            shutil.copyfile(model_dir / name, out.parent / name)
    threshold = load_threshold(model_dir)
    if threshold is not None:
        result["cascade"] = threshold
    return result
