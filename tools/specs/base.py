"""A planner tool as one spec: what it does, its arguments, when it may run, what it changes."""
from __future__ import annotations

import inspect
import json
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Callable, Literal, Mapping, Optional, Union, get_type_hints

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from p2m.runfolder.context import RunContext

MAX_TOOL_FAILURES = 2  # consecutive failures after which a tool is no longer offered

State = Mapping[str, Any]
Suggestion = Optional[tuple[dict[str, Any], str]]  # (arguments, reason) for the default policy


class ToolArgs(BaseModel):
    """Arguments of a tool; unknown keys are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


def args_of(run: Callable[..., Any]) -> type[ToolArgs]:
    """A tool's arguments, declared once: the parameters of `run` after `ctx`, each with its
    annotation (`Annotated[int, Field(ge=0, description=...)]` for bounds and a description)
    and its default."""
    hints = get_type_hints(run, include_extras=True)
    fields = {name: (hints[name], ... if p.default is p.empty else p.default)
              for name, p in list(inspect.signature(run).parameters.items())[1:]}
    title = "".join(part.title() for part in run.__name__.split("_")) + "Args"
    return create_model(title, __base__=ToolArgs, **fields)  # type: ignore[call-overload]


def narrowed(args: type[ToolArgs], **choices: tuple[tuple[Any, ...], Any]) -> type[ToolArgs]:
    """`args` with each named field narrowed to an enum of the values legal now, as
    `field=(values, default)` (default `...`: required); descriptions kept. A grammar enforces
    an enum, not a number's bounds: a 0.5B planner once asked for 1000 epochs."""
    fields: dict[str, Any] = {}
    for name, (values, default) in choices.items():
        description = args.model_fields[name].description
        fields[name] = (Literal[values], Field(default=default, description=description))  # type: ignore[valid-type]
    return create_model(args.__name__.removesuffix("Args") + "Now", __base__=args, **fields)


def _always(*_: Any) -> Optional[str]:
    return None


def _no_update(*_: Any) -> dict[str, Any]:
    return {}


def compact(summary: Any, limit: int = 160) -> str:
    """A result as one short line of JSON."""
    text = summary if isinstance(summary, str) else json.dumps(summary, default=str, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class StateKey:
    """A piece of agent state a tool owns: its value before the tool ever runs, what it means,
    and how the planner sees it."""

    default: Any
    doc: str
    show: Optional[Callable[[Any, Callable[[Any], str]], Optional[str]]] = None
    """The planner's line for the value, every data-derived string through the given `safe`
    (the planner's gate); None (or a None line): not shown."""


@dataclass(frozen=True)
class ToolSpec:
    """One tool, complete: the guard, the act node, the policy, the planner prompt, the trace and
    LangChain read everything about it here.

    - `run(ctx, **args)` does the work against the run directory and returns a JSON summary;
      its docstring is the tool's description.
    - `unavailable(state, ctx)`: why the tool cannot run now, whatever the arguments (None: it can).
    - `refuse(args, state, ctx)`: why it cannot run with these (validated) arguments.
    - `update(result, args, state, ctx)`: the agent-state changes its result makes.
    - `on_failure(error, args, state)`: the agent-state changes a failure makes.
    - `view(result)`: one line for the trace and the planner.
    - `narrow(state, ctx)`: the arguments valid now (names as enums, bounded counts), the schema
      the planner is offered, so a constrained decoder can only produce legal calls; None: `args`;
      False: no argument is legal now, so the tool is not offered.
    - `repeatable`: the same call twice in a row is allowed (each generation round is new data).
    - `state`: the agent-state keys this tool owns (`StateKey`: default, meaning, planner view);
      the agent's state type, its initial state and the planner's view of the run are built
      from them (`p2m.agent.state`). Any tool's `update` may set any key.
    - `when`: the condition of its place in the usual order, as the planner prompt gives it.
    - `suggest(state, ctx)`: the call the default policy makes with this tool now, as
      (arguments, reason), or None; the policy asks the tools in the registry's order and takes
      the first suggestion (`p2m.agent.policy`).
    """

    name: str
    run: Callable[..., dict[str, Any]]
    args: Optional[type[ToolArgs]] = None
    """None: read from `run`'s signature (`args_of`), the one place a tool declares them."""
    unavailable: Callable[[State, RunContext], Optional[str]] = _always
    refuse: Callable[[dict[str, Any], State, RunContext], Optional[str]] = _always
    update: Callable[[dict[str, Any], dict[str, Any], State, RunContext], dict[str, Any]] = _no_update
    on_failure: Callable[[str, dict[str, Any], State], dict[str, Any]] = _no_update
    view: Callable[[dict[str, Any]], str] = compact
    narrow: Callable[[State, RunContext], Union[type[ToolArgs], None, Literal[False]]] = _always
    repeatable: bool = False
    state: Mapping[str, StateKey] = field(default_factory=dict)
    suggest: Callable[[State, RunContext], Optional[tuple[dict[str, Any], str]]] = _always
    when: str = ""

    def __post_init__(self) -> None:
        if self.args is None:
            object.__setattr__(self, "args", args_of(self.run))

    @property
    def description(self) -> str:
        return inspect.getdoc(self.run) or self.name

    def parse(self, args: Any) -> dict[str, Any]:
        """Validated arguments with defaults filled; pydantic's ValidationError when invalid."""
        return self.args.model_validate(args if args is not None else {}).model_dump()

    def why_not(self, args: Any, state: State, ctx: RunContext) -> Optional[str]:
        """Why this call must not run now, or None when it may."""
        if not isinstance(args, dict):
            return "arguments are not an object"
        try:
            parsed = self.parse(args)
        except ValidationError as exc:
            return f"invalid arguments: {exc.errors()[0]['msg']}"
        if state.get("failures", {}).get(self.name, 0) >= MAX_TOOL_FAILURES:
            return f"{self.name} already failed {MAX_TOOL_FAILURES} times"
        return self.unavailable(state, ctx) or self.refuse(parsed, state, ctx)

    def __call__(self, ctx: RunContext, **args: Any) -> dict[str, Any]:
        return self.run(ctx, **self.parse(args))

    def as_langchain(self, ctx: RunContext, schema: Optional[type[ToolArgs]] = None) -> Any:
        """A LangChain StructuredTool bound to `ctx` (for the planner and for outside use), with
        `schema` (the narrowed arguments) in place of `args` when given."""
        from langchain_core.tools import StructuredTool

        return StructuredTool.from_function(func=partial(self.__call__, ctx), name=self.name,
                                            description=self.description,
                                            args_schema=schema or self.args)

    def closed_because(self, state: State, ctx: RunContext) -> Optional[str]:
        """Why the planner may not call this tool now (None: it may), as `offer` decides."""
        if state.get("failures", {}).get(self.name, 0) >= MAX_TOOL_FAILURES:
            return f"failed {MAX_TOOL_FAILURES} times"
        why = self.unavailable(state, ctx)
        if why is None and self.narrow(state, ctx) is False:
            return "no argument is legal now"
        return why

    def offer(self, state: State, ctx: RunContext) -> Optional[Any]:
        """The tool as the planner may call it now, its arguments narrowed once; None when it may
        not (a precondition fails, it failed too often, or no argument is legal now)."""
        if state.get("failures", {}).get(self.name, 0) >= MAX_TOOL_FAILURES or \
                self.unavailable(state, ctx) is not None:
            return None
        schema = self.narrow(state, ctx)
        return None if schema is False else self.as_langchain(ctx, schema)
