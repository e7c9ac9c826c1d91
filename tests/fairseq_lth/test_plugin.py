"""The --user-dir plugin under the real fairseq-train, fairseq-generate and fairseq-validate."""

import shutil
import subprocess
import sys

import pytest
import torch

import shared_mask as sm
from fairseq_lth.driver.processes import PLUGIN_DIR
from fairseq_lth.plugin.checkpoint_compat import load_checkpoint

from .conftest import BUILT_IN_TICKETS, MAX_UPDATE, REWIND, TICKET_SEED, TINY_LR, fairseq, optimizer_moments, train

pytestmark = pytest.mark.duration(75)


def checkpoints(save_dir):
    found = sorted(save_dir.glob("checkpoint*.pt"))
    assert found
    return found


def ticket_mask(mask_path, kind):
    mask = sm.Mask.load(mask_path)
    return sm.random_mask_like(mask, TICKET_SEED) if kind == "random_mask" else mask


def test_rewind_checkpoint_is_fairseqs_full_checkpoint_at_the_rewind_update(dense):
    rewind = load_checkpoint(dense / "rewind.pt")
    assert rewind["optimizer_history"][-1]["num_updates"] == REWIND
    assert rewind["last_optimizer_state"]["state"]  # Adam moments, to restart exactly there
    assert rewind["extra_state"]["train_iterator"]["iterations_in_epoch"] == REWIND  # data position
    reference = load_checkpoint(next(dense.glob(f"checkpoint_*_{REWIND}.pt")))
    for name, tensor in reference["model"].items():
        assert torch.equal(rewind["model"][name], tensor), name


@pytest.mark.parametrize("kind", BUILT_IN_TICKETS)
def test_pruned_weights_and_moments_are_exactly_zero_in_every_checkpoint(tickets, mask, builder, kind):
    keep = ticket_mask(mask, kind)
    for path in checkpoints(tickets[kind]):
        state = load_checkpoint(path)
        assert state["optimizer_history"][-1]["num_updates"] > REWIND
        weights, moments = state["model"], optimizer_moments(state, builder)
        for name, kept in keep.items():
            assert not weights[name][~kept].any(), f"{path.name}: pruned entries of {name} are not zero"
            assert all(not m[~kept].any() for m in moments[name]), f"{path.name}: moments of {name}"
        # The tied output projection is the same tensor, as sparse as the embedding.
        assert torch.equal(weights["decoder.output_projection.weight"], weights["encoder.embed_tokens.weight"])


def test_tickets_start_from_the_specified_weights(dense, tickets, mask, builder):
    rewound = load_checkpoint(dense / "rewind.pt")["model"]
    fresh = builder.build_model(TICKET_SEED).state_dict()
    masks = {kind: ticket_mask(mask, kind) for kind in BUILT_IN_TICKETS}
    start = {"winning": rewound, "random_mask": rewound, "random_reinit": fresh}
    for kind, save_dir in tickets.items():
        trained = load_checkpoint(save_dir / "checkpoint_last.pt")["model"]
        for name, kept in masks[kind].items():
            expected = start[kind][name].float() * kept
            torch.testing.assert_close(trained[name].float(), expected, atol=1e-5, rtol=0, msg=f"{kind}: {name}")
    mask_w, mask_r = masks["winning"], masks["random_mask"]
    assert [int(t.sum()) for _, t in mask_w.items()] == [int(t.sum()) for _, t in mask_r.items()]
    assert mask_w.hamming(mask_r) > 0.1
    assert not torch.allclose(fresh["encoder.layers.0.fc1.weight"], rewound["encoder.layers.0.fc1.weight"])
    assert "starting at the rewind point" in (tickets["winning"] / "train.log").read_text()


def test_resume_inside_a_level_keeps_the_mask(data, tickets, mask, tmp_path):
    save_dir = tmp_path / "run"
    shutil.copytree(tickets["random_reinit"], save_dir)
    before = load_checkpoint(save_dir / "checkpoint_last.pt")["model"]
    log = train(
        data,
        save_dir,
        *TINY_LR,
        "--max-update",
        MAX_UPDATE + 2,
        "--lth-mask",
        mask,
        "--lth-ticket",
        "random_reinit",
        "--lth-ticket-seed",
        TICKET_SEED,
    ).stdout
    assert "resuming" in log and f"@ {MAX_UPDATE} updates" in log
    after = load_checkpoint(save_dir / "checkpoint_last.pt")
    assert after["optimizer_history"][-1]["num_updates"] == MAX_UPDATE + 2
    for name, kept in sm.Mask.load(mask).items():
        assert not after["model"][name][~kept].any()
        torch.testing.assert_close(after["model"][name], before[name], atol=1e-5, rtol=0)


def test_mask_for_another_model_fails_at_start_up(data, dense, tmp_path):
    other = sm.Mask({"encoder.embed_tokens.weight": torch.ones(5, 32, dtype=torch.bool)})
    other.save(tmp_path / "other.safetensors")
    result = train(
        data,
        tmp_path / "run",
        "--continue-once",
        dense / "rewind.pt",
        "--lth-mask",
        tmp_path / "other.safetensors",
        check=False,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("fairseq_lth: error: ") and "a mask for another model?" in last
    assert "begin training" not in result.stdout


def test_a_rewind_point_never_saved_is_one_line(data, tmp_path):
    result = train(
        data, tmp_path / "run", "--lth-rewind-updates", "3", "--lth-rewind-checkpoint", tmp_path / "r.pt", check=False
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("fairseq_lth: error: ") and "--save-interval-updates" in last


def test_fairseq_train_help_lists_the_lottery_options(data):
    result = fairseq("fairseq-train", data, "--user-dir", PLUGIN_DIR, "--task", "lottery_language_modeling", "--help")
    help_text = result.stdout[result.stdout.index("lottery options (--task lottery_language_modeling") :]
    for option in ("--lth-mask", "--lth-ticket", "--lth-scope", "--lth-rewind-updates", "--lth-verify-masks"):
        assert option in help_text
    assert "default: end of epoch 1" in " ".join(help_text.split())  # the language-modeling task's rewind point


def test_generate_and_validate_load_plugin_checkpoints_under_torch_weights_only(data, tickets):
    checkpoint = tickets["winning"] / "checkpoint_last.pt"
    generated = fairseq(
        "fairseq-generate",
        data,
        "--user-dir",
        PLUGIN_DIR,
        "--path",
        checkpoint,
        "--cpu",
        "--beam",
        "2",
        "--max-tokens",
        "1000",
        "--required-batch-size-multiple",
        "1",
        "--gen-subset",
        "test",
    ).stdout
    assert sum(line.startswith("H-") for line in generated.splitlines()) == 30
    validated = fairseq(
        "fairseq-validate",
        data,
        "--user-dir",
        PLUGIN_DIR,
        "--path",
        checkpoint,
        "--cpu",
        "--task",
        "translation",
        "--valid-subset",
        "valid",
        "--max-tokens",
        "1000",
    ).stdout
    assert "valid on 'valid' subset" in validated
    # Without the plugin, torch's weights-only default refuses fairseq's checkpoint.
    load = f"import torch; torch.load({str(checkpoint)!r}, map_location='cpu')"
    plain = subprocess.run([sys.executable, "-c", load], capture_output=True, text=True)
    assert plain.returncode != 0 and "argparse.Namespace" in plain.stderr
    subprocess.run([sys.executable, "-c", "import fairseq_lth.plugin.checkpoint_compat; " + load], check=True)
