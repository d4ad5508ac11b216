import json
import shutil

import pytest

from orlearn.cli import main
from orlearn.shipped import shipped_path


def _train(policy, *options: str) -> int:
    """`orlearn decision-rules train case3 -o POLICY OPTIONS...`: its exit code."""
    return main(["decision-rules", "train", "case3", "-o", str(policy), *options])


def test_train_evaluate_and_sddp_verbs(tmp_path, capsys):
    policy = tmp_path / "p.pt"
    assert _train(policy, "--stages", "3", "--iterations", "3", "--batch", "2", "--hidden", "8") == 0
    assert policy.is_file() and policy.with_suffix(".json").is_file()
    card = json.loads(policy.with_suffix(".json").read_text())
    assert card["kind"] == "ddr" and card["metadata"]["stages"] == 3
    out = tmp_path / "eval.json"
    assert (
        main(
            [
                "decision-rules",
                "evaluate",
                "case3",
                "--stages",
                "3",
                "--policy",
                str(policy),
                "--scenarios",
                "4",
                "--baselines",
                "--json",
                str(out),
            ]
        )
        == 0
    )
    results = json.loads(out.read_text())
    assert set(results) == {"policy (rollout)", "myopic", "wait-and-see"}
    assert results["wait-and-see"]["mean"] <= results["policy (rollout)"]["mean"] + 1e-6
    assert (
        main(["decision-rules", "sddp", "case3", "--stages", "3", "--iterations", "3", "--simulations", "4"])
        == 0
    )
    assert "lower bound" in capsys.readouterr().out


def test_bad_input_exits_2(tmp_path, capsys):
    assert main(["decision-rules", "sddp", "no-such-case"]) == 2
    policy = tmp_path / "p.pt"
    assert _train(policy, "--stages", "2", "--iterations", "1", "--batch", "1", "--arch", "linear") == 0
    assert main(["decision-rules", "evaluate", "case3", "--policy", str(policy), "--scenarios", "2"]) == 2
    assert "the policy is for 2 stages" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["evaluate", "case3", "--policy", "p.pt", "--scenarios", "-3"], "--scenarios must be at least 1, got -3"),
        (["evaluate", "case3", "--policy", "p.pt", "--scenarios", "0"], "--scenarios must be at least 1, got 0"),
        (["sddp", "case3", "--simulations", "0"], "--simulations must be at least 1, got 0"),
        (["sddp", "case3", "--iterations", "-1"], "--iterations must be at least 1, got -1"),
        (["sddp", "case3", "--time-limit", "0"], "--time-limit must be positive"),
        (["sddp", "case3", "--stages", "0"], "--stages must be at least 1"),
        (["train", "case3", "-o", "p.pt", "--iterations", "0"], "--iterations must be at least 1"),
        (["evaluate", "case3", "--policy", "p.pt", "--threads", "0"], "--threads must be at least 1"),
    ],
)
def test_nonsense_numbers_exit_2_with_one_line(args, message, capsys):
    assert main(["decision-rules", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("orlearn: error: ") and message in err
    assert "\n" not in err


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0.3,zero,0.7\n", "is not a numeric CSV"),
        ("0.3,0.4\n0.3,0.4,0.3\n", "is not a numeric CSV"),
        ("0.5,0.4,0.3\n", "summing to 1"),
        ("-0.1,0.6,0.5\n", "summing to 1"),
        ("0.3,0.4\n", "has 2 columns"),
    ],
)
def test_a_malformed_probability_file_is_one_line(tmp_path, capsys, text, message):
    case = tmp_path / "case"
    shutil.copytree(shipped_path("instances", "hydro", "case3"), case)
    (case / "scenarioprobability.csv").write_text(text)
    assert main(["decision-rules", "sddp", str(case), "--stages", "2", "--iterations", "1", "--simulations", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("orlearn: error: ") and message in err and "\n" not in err
