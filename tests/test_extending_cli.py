"""The ticket kind and pruning strategy of tests/shared_mask/test_extending.py, reached through the
command lines with ``--extensions`` (the fairseq driver also hands the module to fairseq-train)."""

import json

import shared_mask as sm
from fairseq_lth.driver import imp
from fairseq_lth.plugin.checkpoint_compat import load_checkpoint
from tests.fairseq_lth.conftest import MODEL_ARGS, data  # noqa: F401 (the tiny translation data fixture)
from tests.shared_mask.test_extending import ResetShuffled, stable_reference

EXTENSION = "tests.shared_mask.test_extending"


def test_fairseq_driver_runs_a_registered_kind_and_strategy(data, tmp_path):  # noqa: F811
    out = tmp_path / "run"
    imp.main(
        [
            "--data",
            str(data),
            "--out",
            str(out),
            "--levels",
            "1",
            "--seeds",
            "0",
            "--rewind",
            "4it",
            "--extensions",
            EXTENSION,
            "--tickets",
            "reset_shuffled",
            "--schedule",
            "oneshot",  # level 1 pruned from the dense run, as the iterative schedule does, without its winning ticket
            "--pruning",
            "largest_first",
            "--average-last",
            "1",
            "--beam",
            "1",
            "--cpu",
            "--no-progress",
            "--",
            *MODEL_ARGS,
        ]
    )
    seed = out / "seed_0"
    dense = load_checkpoint(seed / "level_00" / "dense" / "final.pt")["model"]
    mask = sm.Mask.load(seed / "level_01" / "mask.safetensors")
    before = sm.Mask.load(seed / "level_00" / "mask.safetensors")
    model = {name: dense[name] for name in before.names()}
    assert mask == stable_reference(model, before, round(0.2 * before.alive()))

    shuffled = sm.random_mask_like(mask, ResetShuffled().ticket_seed(0, 1))
    final = load_checkpoint(seed / "level_01" / "reset_shuffled" / "final.pt")["model"]
    for name, keep in shuffled.items():
        assert not final[name][~keep].any(), name  # trained under the kind's own mask
    assert json.loads((seed / "level_01" / "reset_shuffled" / "metrics.json").read_text())["metrics"]["bleu"] >= 0
    assert json.loads((out / "config.json").read_text())["lottery"]["pruning"] == "largest_first"
