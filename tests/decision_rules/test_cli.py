import json

from orlearn.cli import main


def test_train_evaluate_and_sddp_verbs(tmp_path, capsys):
    policy = tmp_path / "p.pt"
    assert (
        main(
            [
                "ddr",
                "train",
                "case3",
                "--stages",
                "3",
                "-o",
                str(policy),
                "--iterations",
                "3",
                "--batch",
                "2",
                "--hidden",
                "8",
            ]
        )
        == 0
    )
    assert policy.is_file() and policy.with_suffix(".json").is_file()
    card = json.loads(policy.with_suffix(".json").read_text())
    assert card["kind"] == "ddr" and card["metadata"]["stages"] == 3
    out = tmp_path / "eval.json"
    assert (
        main(
            [
                "ddr",
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
        main(["ddr", "sddp", "case3", "--stages", "3", "--iterations", "3", "--simulations", "4"])
        == 0
    )
    assert "lower bound" in capsys.readouterr().out


def test_bad_input_exits_2(tmp_path, capsys):
    assert main(["ddr", "sddp", "no-such-case"]) == 2
    policy = tmp_path / "p.pt"
    assert (
        main(
            [
                "ddr",
                "train",
                "case3",
                "--stages",
                "2",
                "-o",
                str(policy),
                "--iterations",
                "1",
                "--batch",
                "1",
                "--arch",
                "linear",
            ]
        )
        == 0
    )
    assert main(["ddr", "evaluate", "case3", "--policy", str(policy), "--scenarios", "2"]) == 2
    assert "the policy is for 2 stages" in capsys.readouterr().err
