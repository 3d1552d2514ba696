"""Flags built from RunConfig's typed sections: one per field, typed, documented, checked."""
import argparse
from dataclasses import fields

import pytest

from p2m.core.config import RunConfig
from p2m.config_flags import SECTIONS, add_setting_flags, apply_setting_flags, field_docs


def parser():
    p = argparse.ArgumentParser()
    add_setting_flags(p)
    return p


def test_every_setting_has_a_flag_and_a_docstring():
    flags = {a.option_strings[0] for a in parser()._actions if a.option_strings}
    for section, cls in SECTIONS.items():
        docs = field_docs(cls)
        for f in fields(cls):
            assert f"--{f.name.replace('_', '-')}" in flags, f"{section}.{f.name} has no flag"
            assert docs.get(f.name), f"{section}.{f.name} has no docstring"


def test_flags_set_what_they_name_and_leave_the_rest():
    args = parser().parse_args(["--max-iterations", "5", "--classifier", "head", "--soft-targets",
                                "--rival-heads", "--max-cost-usd", "1.5", "--generate-n", "40", "--no-lora"])
    config = apply_setting_flags(args, RunConfig(llm="none"))
    assert config.budget.max_iterations == 5 and config.train.classifier == "head"
    assert config.train.soft_targets is True and config.train.rival_heads == () and config.train.lora is False
    assert config.budget.max_cost_usd == 1.5 and config.data.generate_n == 40
    assert config.llm == "none" and config.train.epochs == RunConfig().train.epochs  # untouched


def test_a_bad_value_is_refused_naming_the_setting(capsys):
    with pytest.raises(SystemExit):
        parser().parse_args(["--classifier", "svm"])
    assert "invalid choice" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parser().parse_args(["--max-iterations", "many"])
    with pytest.raises(SystemExit):
        parser().parse_args(["--search-embedder", "bert"])
    with pytest.raises(ValueError, match="data.rerank"):  # checked as the config checks its fields
        apply_setting_flags(parser().parse_args(["--rerank", "coin-toss"]), RunConfig())
