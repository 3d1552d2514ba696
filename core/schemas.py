"""Typed shapes shared by every part of p2m.

Pydantic models serve three jobs at once: validation, JSON on disk, and the JSON schema used
for constrained decoding by the local LLM.
"""
from __future__ import annotations

from typing import Any, Literal, Optional

from pydantic import BaseModel, Field, field_validator, model_validator

# The task families' names, filled by the families as they register (`p2m.tools.families`, which
# `import p2m` loads): the family's default metric, and the names datasets in the wild use for it.
DEFAULT_METRIC: dict[str, str] = {}
TASK_TYPE_ALIASES: dict[str, str] = {}


def add_task_type(name: str, default_metric: str, aliases: tuple[str, ...] = ()) -> None:
    """Make `name` a valid `TaskSpec.task_type` (a family registering itself), with the metric a
    task's target defaults to and other names that mean it."""
    DEFAULT_METRIC[name] = default_metric
    TASK_TYPE_ALIASES.update({alias: name for alias in aliases})


MAX_UNLABELLED = 20_000  # unlabelled texts a task carries (the teacher labels what the budget allows)


class TaskSpecError(ValueError):
    """A task description that cannot be used, with the reason in the message."""


class Demonstration(BaseModel):
    """One example the user gave: an input and the output they expect."""

    input: str = Field(description="the input text")
    output: str = Field(description="the expected output text")


class Target(BaseModel):
    """The score at which the agent stops improving the model."""

    metric: str = Field(description="metric name, e.g. accuracy, macro_f1, f1, chrf")
    value: float = Field(description="the score to reach, in [0, 1]")

    @field_validator("value")
    @classmethod
    def _in_unit_interval(cls, v: float) -> float:
        if not 0.0 <= v <= 1.0:
            raise ValueError(f"target value must be in [0, 1], got {v}")
        return v


class TaskSpec(BaseModel):
    """What the user wants: instruction, demonstrations, family, labels and target."""

    instruction: str = Field(description="what the model must do, in plain language")
    examples: list[Demonstration] = Field(default_factory=list, description="demonstrations")
    task_type: str = Field(default="classification", description="the task family (a registered one)")
    labels: Optional[list[str]] = Field(default=None, description="label set for classification")
    target: Optional[Target] = Field(default=None, description="metric to reach")
    test: list[Demonstration] = Field(default_factory=list, description=(
        "rows the user labelled to score on: the run's gold test split, never trained on"))
    unlabelled: list[str] = Field(default_factory=list, description=(
        "the user's own inputs without outputs (an inbox, a log): the teacher labels them as "
        "training and validation rows, never test rows"))

    @field_validator("task_type", mode="before")
    @classmethod
    def _alias_task_type(cls, v: Any) -> Any:
        if isinstance(v, str):
            key = v.strip().lower()
            key = TASK_TYPE_ALIASES.get(key, key)
            if key not in DEFAULT_METRIC:
                raise ValueError(f"unknown task type {v!r}; expected one of {', '.join(DEFAULT_METRIC)}")
            return key
        return v

    @field_validator("unlabelled", mode="before")
    @classmethod
    def _texts(cls, v: Any) -> Any:
        if v is None:
            return []
        if not isinstance(v, list) or not all(isinstance(t, str) for t in v):
            raise ValueError("unlabelled must be a list of texts")
        if len(v) > MAX_UNLABELLED:
            raise ValueError(f"{len(v):,} unlabelled texts; at most {MAX_UNLABELLED:,} are read")
        return [t.strip() for t in v if t.strip()]

    @model_validator(mode="after")
    def _check(self) -> "TaskSpec":
        self.instruction = self.instruction.strip()
        if not self.instruction:
            raise ValueError("the instruction is empty: say what the model must do")
        if self.labels is not None:
            labels = [str(label).strip() for label in self.labels if str(label).strip()]
            if len(set(labels)) != len(labels):
                raise ValueError(f"labels repeat: {self.labels}")
            self.labels = labels or None
        if self.task_type == "classification" and self.labels:
            if len(self.labels) < 2:
                raise ValueError("a classification task needs at least two labels")
            for field_name, rows in (("example", self.examples), ("test", self.test)):
                bad = [ex.output for ex in rows if ex.output not in self.labels]
                if bad:
                    raise ValueError(
                        f"{field_name} outputs not in labels {self.labels}: {sorted(set(bad))}"
                    )
        if self.task_type == "classification" and not self.labels and self.examples:
            seen = sorted({ex.output for ex in self.examples})
            if len(seen) >= 2:
                self.labels = seen
        if self.target is None:
            self.target = Target(metric=DEFAULT_METRIC[self.task_type], value=0.8)
        return self

    @property
    def label_set(self) -> Optional[list[str]]:
        """The closed set of outputs (a classification task's labels), else None: NER's labels
        are entity types, not outputs."""
        return self.labels if self.task_type == "classification" and self.labels else None


class Example(BaseModel):
    """One input/output pair in the run's data, with where it came from."""

    input: str
    output: str
    split: Literal["train", "validation", "test"] = "train"
    """train: fitted on; validation: early stopping and model selection; test: gold rows only,
    read to report (never written by the generator or labelled by the teacher)."""
    source: dict[str, Any] = Field(
        description="provenance: {kind: dataset, name, row} | {kind: generated, call} | "
                    "{kind: user} | {kind: user_test}; `fold`: the only demonstration fold its "
                    "prompt saw"
    )


class ModelChoice(BaseModel):
    """The pretrained model picked as the student, and why."""

    name: str
    path: str
    family: str
    params: int = 0
    reason: str = ""


class Metrics(BaseModel):
    """A scored model: the headline metric, the others, and what it got wrong."""

    name: str
    value: float
    others: dict[str, float] = Field(default_factory=dict)
    per_class: dict[str, dict[str, float]] = Field(default_factory=dict)
    n: int = 0
    failures: list[dict[str, str]] = Field(default_factory=list)
    confusion: Optional[dict[str, dict[str, int]]] = None
    """Classification only: counts by gold label, then predicted label."""


class TraceEvent(BaseModel):
    """One line of trace.jsonl: a planner decision, a guard override or a tool call."""

    time: float
    node: str
    kind: str
    tool: Optional[str] = None
    args: dict[str, Any] = Field(default_factory=dict)
    summary: Any = None
    reason: Optional[str] = None
    duration_s: float = 0.0
    tokens: int = 0
    iteration: int = 0
    options: Optional[dict[str, Any]] = None
    """A decision's menu: the tools that were legal ("legal") and why each other was not ("refused")."""
    added: Optional[dict[str, Any]] = None
    """A tool call's rows added to the data: how many, by source/split and by label."""
    cost_usd: float = 0.0
    """What the LLM calls of this decision or tool call cost (0 for local models)."""
