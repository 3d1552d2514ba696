"""Command-line flags built from RunConfig's typed sections (train, budget, data): one flag per
field (`--max-iterations` sets `budget.max_iterations`), its type and choices from the field's
annotation, its help from the field's docstring. A setting is declared once, in core/config.py."""
from __future__ import annotations

import argparse
import ast
import inspect
import typing
from dataclasses import fields
from functools import lru_cache
from typing import Any, Literal, Optional, Union

from p2m.core.config import Budget, DataConfig, RunConfig, TrainConfig

SECTIONS = {"train": TrainConfig, "budget": Budget, "data": DataConfig}
PREFIX = "setting__"  # argparse dests of these flags: setting__<section>__<field>


@lru_cache(maxsize=None)
def field_docs(cls: type) -> dict[str, str]:
    """The docstring written under each field of a dataclass (the string after `name: type = x`)."""
    tree = ast.parse(inspect.getsource(cls))
    body = tree.body[0].body  # type: ignore[attr-defined]
    docs = {}
    for node, after in zip(body, body[1:]):
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and \
                isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant) and \
                isinstance(after.value.value, str):
            docs[node.target.id] = " ".join(after.value.value.split())
    return docs


def _kind(hint: Any) -> dict[str, Any]:
    """argparse keywords for a field's type: its converter, choices, or on/off for a bool."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is Union and type(None) in args:  # Optional[X]
        return _kind(next(a for a in args if a is not type(None)))
    if hint is bool:
        return {"action": argparse.BooleanOptionalAction}
    if origin is Literal:
        return {"choices": list(args), "type": type(args[0])}
    if origin in (tuple, list):
        return {"nargs": "*", "type": args[0] if args else str, "metavar": "NAME"}
    if hint in (int, float, str):
        return {"type": hint}
    raise TypeError(f"no command-line form for a setting of type {hint!r}")


def add_setting_flags(parser: argparse.ArgumentParser, only: Optional[set[str]] = None) -> None:
    """One flag per field of the config's sections (or the fields named in `only`), in a group
    per section; an absent flag leaves the setting as the config has it."""
    for section, cls in SECTIONS.items():
        hints, docs = typing.get_type_hints(cls, include_extras=False), field_docs(cls)
        group = parser.add_argument_group(f"{section} settings ({cls.__name__})")
        for f in fields(cls):
            if only is not None and f.name not in only:
                continue
            doc = docs.get(f.name, "").replace("%", "%%")  # argparse formats help with %
            kind = _kind(hints[f.name])
            if "action" not in kind and "choices" not in kind:
                kind.setdefault("metavar", f.name.upper())
            group.add_argument(f"--{f.name.replace('_', '-')}", dest=f"{PREFIX}{section}__{f.name}",
                               default=argparse.SUPPRESS, help=f"{doc} (default: {f.default})", **kind)


def apply_setting_flags(args: argparse.Namespace, config: RunConfig) -> RunConfig:
    """`config` with every setting a flag of `add_setting_flags` gave, checked as the config
    checks its fields (ValueError naming a bad value)."""
    given = config.to_dict()
    for dest, value in vars(args).items():
        if dest.startswith(PREFIX):
            section, name = dest[len(PREFIX):].split("__", 1)
            given[section][name] = tuple(value) if isinstance(value, list) else value
    return RunConfig.from_dict(given)
