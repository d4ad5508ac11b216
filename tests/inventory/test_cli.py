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
