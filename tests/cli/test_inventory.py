import json

from orlearn.cli import main

SMALL = ["--epochs", "2", "--train-samples", "64", "--batch-size", "32", "--periods", "20", "--dev-samples", "32",
         "--test-samples", "64", "--test-periods", "40", "--test-warmup", "10", "-q"]


def test_train_then_evaluate(tmp_path, capsys):
    out = tmp_path / "bs.pt"
    assert main(["inventory", "train", "one_store_backlogged", "--policy", "base_stock", "-o", str(out), *SMALL]) == 0
    assert out.is_file() and out.with_suffix(".json").is_file() and out.with_suffix(".png").is_file()
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["kind"] == "inventory/base_stock" and card["metadata"]["test_cost"] > 0
    capsys.readouterr()
    assert main(["inventory", "evaluate", str(out), "--test-samples", "64", "--test-periods", "40",
                 "--test-warmup", "10", "--json", "-q"]) == 0
    record = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert record["setting"] == "one_store_backlogged" and record["test_cost"] > 0


def test_gnn_training_resumes_from_its_checkpoint(tmp_path):
    ckpt = tmp_path / "gnn.ckpt"
    args = ["inventory", "train", "transshipment_backlogged", "--stores", "3", "-o", str(tmp_path / "g.pt"),
            "--checkpoint", str(ckpt), *SMALL]
    assert main(args) == 0 and ckpt.is_file()
    args[args.index("--epochs") + 1] = "3"
    assert main(args) == 0  # resumes at epoch 2 and runs one more
    import torch

    assert torch.load(ckpt, weights_only=False)["epoch"] == 3


def test_bad_input_exits_2(tmp_path, capsys):
    assert main(["inventory", "train", "nowhere", "-q"]) == 2
    assert "unknown inventory setting" in capsys.readouterr().err
    assert main(["inventory", "train", "one_store_lost", "--underage-cost", "-1", "-q", *SMALL[:2]]) == 2
    assert "underage" in capsys.readouterr().err
    assert main(["inventory", "evaluate", str(tmp_path / "missing.pt"), "-q"]) == 2
    assert main(["inventory", "evaluate", "one_store_lost", "--policy", "gnn", "-q"]) == 2


def test_nonsense_settings_and_selections_exit_2_with_one_line(tmp_path, capsys):
    bad_yaml = tmp_path / "bad.yml"
    bad_yaml.write_text("problem_params:\n  n_stores: [1, 2\nstore_params: {}\n")
    runs = [
        (["evaluate", "one_store_lost", "--policy", "base_stock", "--set", "nosuch.key=3"],
         "has no key 'nosuch.key' to override"),
        (["evaluate", "one_store_lost", "--policy", "base_stock", "--set", "store_params.nosuch=3"],
         "keys at store_params: "),
        (["evaluate", "one_store_lost", "--policy", "base_stock", "--set", "a=[1,"], "not valid YAML"),
        (["bench", "--only", "zzzz", "--results", str(tmp_path / "b.jsonl")], "--only 'zzzz' matches no quick benchmark case"),
        (["train", str(bad_yaml)], "is not valid YAML: "),
        (["evaluate", "one_store_lost", "--policy", "base_stock", "--full-test", "--test-samples", "8"], "--full-test"),
        (["evaluate", "one_store_lost", "--policy", "base_stock", "--test-samples", "0"], "at least 1"),
        (["evaluate", "one_store_lost", "--policy", "base_stock", "--threads", "0"], "--threads"),
    ]
    for args, message in runs:
        assert main(["inventory", *args, "-q"]) == 2, args
        err = capsys.readouterr().err.strip()
        assert err.startswith("orlearn: error: ") and message in err and "\n" not in err, err
    assert not (tmp_path / "b.jsonl").exists()


def test_train_writes_under_runs_not_into_the_shipped_policies(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["inventory", "train", "one_store_backlogged", "--policy", "base_stock", *SMALL]) == 0
    assert (tmp_path / "runs" / "inventory" / "one_store_backlogged_base_stock.pt").is_file()
    assert not (tmp_path / "policies").exists()


def test_evaluate_runs_the_quick_test_unless_asked_for_the_full_one(monkeypatch, capsys):
    import orlearn.inventory.hdpo as hdpo
    from orlearn.shipped import shipped_path

    calls = []

    def fake_evaluate(setting, policy, **kwargs):
        calls.append(kwargs)
        return hdpo.Evaluation(1.0, 0.1, kwargs["n_samples"] or 32768, kwargs["periods"] or 5000)

    monkeypatch.setattr(hdpo, "evaluate", fake_evaluate)
    policy = str(shipped_path("policies", "inventory", "one_store_lost_L3_vanilla.pt"))
    assert main(["inventory", "evaluate", policy, "-q"]) == 0
    assert main(["inventory", "evaluate", policy, "--test-samples", "512", "-q"]) == 0
    assert main(["inventory", "evaluate", policy, "--full-test", "-q"]) == 0
    sizes = [(c["n_samples"], c["periods"], c["warmup"]) for c in calls]
    assert sizes == [(2048, 1500, 500), (512, 1500, 500), (None, None, None)]
