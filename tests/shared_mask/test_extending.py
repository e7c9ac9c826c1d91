"""Extending the toolkit from outside the package: a ticket kind and a pruning strategy defined here,
registered with shared_mask, and run through the public lottery API (the CLIs: tests/test_extending_cli.py).

Importing this module registers both (``--extensions tests.shared_mask.test_extending`` does the same
for a command line)."""

import torch
from safetensors.torch import load_file

import shared_mask as sm
from tests.shared_mask.test_lottery import MLPTrainer, load_model, mask_at


class ResetShuffled(sm.TicketKind):
    """W_0 (no late rewinding) under the level's per-tensor counts at random positions."""

    name, label, color, linestyle = "reset_shuffled", "reset, shuffled mask", "tab:green", "-."
    start = sm.Start.INIT

    def derive_mask(self, mask, seed):
        return sm.random_mask_like(mask, seed)


class LargestFirst(sm.ScorePruning):
    """Prunes the *largest* magnitudes: scores are negative, so the selection must order them right."""

    name = "largest_first"

    def score(self, name, weight):
        return -weight.abs()


if ResetShuffled.name not in sm.TICKETS:
    sm.TICKETS.register(ResetShuffled())
    sm.PRUNING.register(LargestFirst())


def stable_reference(model, mask, count):
    """The ``count`` largest surviving magnitudes of ``model`` (a module or a state dict) removed, ties
    in mask order (a stable sort)."""
    params = model if isinstance(model, dict) else dict(model.named_parameters())
    scores = torch.cat([-params[n].detach().abs().reshape(-1) for n in mask.names()])
    alive = torch.cat([mask[n].reshape(-1) for n in mask.names()])
    order = torch.sort(torch.where(alive, scores, torch.inf), stable=True).indices[:count]
    keep = alive.clone()
    keep[order] = False
    tensors, start = {}, 0
    for name in mask.names():
        tensors[name] = keep[start : start + mask[name].numel()].reshape(mask[name].shape)
        start += mask[name].numel()
    return sm.Mask(tensors)


def test_a_registered_kind_and_strategy_run_through_the_lottery(tmp_path):
    config = sm.LotteryConfig(
        levels=2, rate=0.2, seeds=[0], tickets=["winning", "reset_shuffled"], rewind="1ep", pruning="largest_first"
    )
    trainer = MLPTrainer()
    run = tmp_path / "run"
    sm.run_lottery(trainer, config, run, progress=False)

    init = load_file(str(run / "seed_0" / "init.safetensors"))
    previous, source = mask_at(run, 0, 0), run / "seed_0" / "level_00" / "dense" / "final.safetensors"
    for level in (1, 2):
        mask = mask_at(run, 0, level)
        assert mask == stable_reference(load_model(source), previous, round(0.2 * previous.alive()))
        unit = trainer.units[(0, level, "reset_shuffled")]
        assert unit.ticket_seed == ResetShuffled().ticket_seed(0, level)
        assert unit.mask == sm.random_mask_like(mask, unit.ticket_seed)
        start = trainer.starts[(0, level, "reset_shuffled")]
        for name, keep in unit.mask.items():
            assert int(keep.sum()) == int(mask[name].sum())
            assert torch.equal(start[name], init[name] * keep)  # W_0, not the rewind point
        assert (run / "seed_0" / f"level_{level:02d}" / "reset_shuffled" / "metrics.json").is_file()
        previous, source = mask, run / "seed_0" / f"level_{level:02d}" / "winning" / "final.safetensors"


def test_the_report_draws_a_registered_kind_in_its_own_style(tmp_path):
    from shared_mask.report.figures import ticket_style

    assert ticket_style("reset_shuffled") == ("reset, shuffled mask", "tab:green", "-.")
    assert ticket_style("winning") == ("winning ticket", "tab:blue", "-")


def test_unknown_names_list_the_registered_ones():
    import pytest

    with pytest.raises(ValueError, match="unknown pruning strategy 'magic'.*largest_first"):
        sm.LotteryConfig(pruning="magic")
    with pytest.raises(ValueError, match="reset_shuffled"):
        sm.LotteryConfig(tickets=["winning", "lucky"])
    with pytest.raises(ValueError, match="already registered"):
        sm.TICKETS.register(ResetShuffled())
