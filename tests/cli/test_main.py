"""The command tree: `orlearn <capability> <verb>`, and one-line hints for verbs typed without their capability."""

from __future__ import annotations

import pytest

from orlearn.cli import build_parser, main


@pytest.mark.parametrize(
    ("argv", "meant"),
    [
        (["solve", "x.mps", "-b", "gnn"], "orlearn milp solve"),
        (["generate", "setcover/small"], "orlearn milp generate"),
        (["hardness", "x.mps"], "orlearn milp hardness"),
        (["convert", "a.csv", "-o", "out"], "orlearn milp convert"),
        (["collect", "setcover/small", "-o", "data"], "orlearn branching collect"),
        (["train", "branching", "data", "-o", "p.pt"], "orlearn branching train"),
        (["train", "branching-rl", "setcover/small"], "orlearn branching train-rl"),
        (["-v", "ddr", "train", "case3"], "orlearn decision-rules"),
    ],
)
def test_a_verb_without_its_capability_gets_a_one_line_did_you_mean(argv, meant, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("orlearn: error: ") and f"did you mean '{meant}" in err
    assert err.count("\n") == 1


def test_train_without_a_kind_names_both_training_verbs(capsys):
    assert main(["train"]) == 2
    err = capsys.readouterr().err
    assert "'orlearn branching train'" in err and "'orlearn branching train-rl'" in err


def test_every_capability_has_its_verbs():
    parser = build_parser()
    (commands,) = [a for a in parser._actions if a.dest == "command"]
    verbs = {
        name: sorted(next(a for a in sub._actions if a.dest.endswith("_verb")).choices)
        for name, sub in commands.choices.items() if name != "demo"
    }  # fmt: skip
    assert verbs == {
        "milp": ["convert", "generate", "hardness", "solve"],
        "branching": ["collect", "train", "train-rl"],
        "construct": ["generate", "solve", "train"],
        "decision-rules": ["evaluate", "sddp", "train"],
        "inventory": ["bench", "evaluate", "train"],
    }
    assert list(commands.choices) == [*verbs, "demo"]


@pytest.mark.parametrize("capability", ["milp", "branching", "construct", "decision-rules", "inventory"])
def test_a_capability_without_a_verb_prints_its_help(capability, capsys):
    assert main([capability]) == 2
    assert "VERB" in capsys.readouterr().out


def test_help_defaults_agree_with_the_library():
    from orlearn.cli import construct, inventory
    from orlearn.construct.tasks import LABEL_CACHE
    from orlearn.inventory.tasks import DEFAULT_OUTPUT, QUICK_TEST

    assert construct.LABEL_CACHE == LABEL_CACHE
    assert (inventory.DEFAULT_OUTPUT, inventory.QUICK_TEST) == (DEFAULT_OUTPUT, QUICK_TEST)
