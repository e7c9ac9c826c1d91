"""Learning-rate rewinding and ticket transfer in the lottery loop, with the small MLP trainer."""

import json

import pytest
import torch
from safetensors.torch import load_file

import shared_mask as sm
from tests.shared_mask.models import mlp
from tests.shared_mask.test_lottery import MLPTrainer, config, load_model, mask_at

CLASSES = 4


class FourClassTrainer(MLPTrainer):
    """The same task with a fourth class: the output layer has another shape than the MLP's."""

    def __init__(self):
        super().__init__()
        self.y = (self.x @ torch.randn(10, CLASSES, generator=torch.Generator().manual_seed(1))).argmax(1)

    def config(self):
        return {**super().config(), "experiment": "synthetic-mlp-4"}

    def build_model(self, seed):
        return mlp(seed, sizes=(10, 32, 32, CLASSES))


def final(run, seed, level, ticket):
    return load_file(str(run / f"seed_{seed}" / f"level_{level:02d}" / ticket / "final.safetensors"))


def test_lr_rewinding_starts_from_the_pruned_trained_weights_and_keeps_them_pruned(tmp_path):
    run, trainer = tmp_path / "run", MLPTrainer()
    sm.run_lottery(trainer, config(seeds=[0], tickets=["winning", "lr_rewind"]), run, progress=False)
    for level, source in ((1, ("level_00", "dense")), (2, ("level_01", "winning"))):
        mask = mask_at(run, 0, level)
        pruned_from = load_file(str(run / "seed_0" / source[0] / source[1] / "final.safetensors"))
        start = trainer.starts[(0, level, "lr_rewind")]
        trained = final(run, 0, level, "lr_rewind")
        for name, keep in mask.items():
            assert torch.equal(start[name], pruned_from[name] * keep), name
            assert not trained[name][~keep].any(), name


def test_the_chain_can_follow_lr_rewound_tickets(tmp_path):
    run = tmp_path / "run"
    sm.run_lottery(
        MLPTrainer(), config(seeds=[0], tickets=["lr_rewind", "random_reinit"], chain="lr_rewind"), run, progress=False
    )
    level_1 = load_model(run / "seed_0" / "level_01" / "lr_rewind" / "final.safetensors")
    assert mask_at(run, 0, 2) == sm.prune_global(level_1, mask_at(run, 0, 1), 0.2)
    assert not (run / "seed_0" / "level_01" / "winning").exists()


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"chain": "random_reinit"}, "the chain follows a candidate ticket"),
        ({"chain": "lr_rewind"}, "include 'lr_rewind' in tickets"),
        ({"tickets": ["winning", "transfer"]}, "transferred tickets are trained by --transfer-from"),
    ],
)
def test_invalid_chains_and_tickets_are_clear_errors(overrides, message):
    with pytest.raises(ValueError, match=message):
        config(**overrides)


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    run = tmp_path_factory.mktemp("source") / "run"
    sm.run_lottery(MLPTrainer(), config(seeds=[0], tickets=["winning"]), run, progress=False)
    return run


def test_a_transferred_ticket_keeps_the_source_mask_and_weights_where_shapes_match(source, tmp_path):
    run, trainer = tmp_path / "target", FourClassTrainer()
    sm.run_lottery(
        trainer,
        config(seeds=[3], levels=1, tickets=["winning", "random_reinit"], transfer_from=str(source / "seed_0")),
        run,
        progress=False,
    )
    record = json.loads((run / "transfer.json").read_text())
    assert record["levels"] == [1, 2]
    assert record["own_initialization"] == ["4.weight", "4.bias"] and record["dense"] == ["4.weight", "4.bias"]
    rewind = load_file(str(source / "seed_0" / "rewind.safetensors"))
    init = load_file(str(run / "seed_3" / "init.safetensors"))
    for level in (1, 2):
        source_mask = mask_at(source, 0, level)
        unit = trainer.units[(3, level, "transfer")]
        start = trainer.starts[(3, level, "transfer")]
        for name in ("0.weight", "0.bias", "2.weight", "2.bias"):
            assert torch.equal(unit.mask[name], source_mask[name])
            assert torch.equal(start[name], rewind[name] * source_mask[name])
        assert unit.mask["4.weight"].all() and torch.equal(start["4.weight"], init["4.weight"])  # own init, dense
        counts = {n: int(k.sum()) for n, k in unit.mask.items()}
        for control in ("transfer_random_reinit", "transfer_random_mask"):
            assert {n: int(k.sum()) for n, k in trainer.units[(3, level, control)].mask.items()} == counts
        assert trainer.units[(3, level, "transfer_random_mask")].mask != unit.mask
    rows = (run / "results.csv").read_text()
    assert rows.count(",transfer,") == 2 and rows.count(",transfer_random_mask,") == 2


def test_a_transfer_can_be_added_to_a_finished_run_and_the_report_names_it(source, tmp_path, capsys):
    from shared_mask.report.cli import main as report

    run, settings = tmp_path / "target", dict(seeds=[3], levels=1, tickets=["winning", "random_reinit"])
    sm.run_lottery(FourClassTrainer(), config(**settings), run, progress=False)
    trainer = FourClassTrainer()
    sm.run_lottery(trainer, config(**settings, transfer_from=str(source / "seed_0" / "level_02")), run, progress=False)
    assert sorted(trainer.calls) == [(3, 2, t) for t in ("transfer", "transfer_random_mask", "transfer_random_reinit")]
    with pytest.raises(ValueError, match="lottery.transfer_from"):
        sm.run_lottery(
            FourClassTrainer(), config(**settings, transfer_from=str(source / "seed_0")), run, progress=False
        )
    assert report([str(run), "--out", str(tmp_path / "report")]) == 0
    summary = (tmp_path / "report" / "summary.md").read_text()
    assert "Transferred tickets from" in summary and "(shapes differ): 4.weight, 4.bias" in summary
    assert "Missing units: 0 of" in summary


@pytest.mark.parametrize(
    "path, message",
    [
        ("nowhere/seed_0", "expected RUN/seed_<s>/level_<kk> or RUN/seed_<s> of a run folder"),
        ("{source}/seed_0/level_07", "level_07/mask.safetensors is missing"),
        ("{source}/seed_0/level_00", "no pruned level"),
    ],
)
def test_a_wrong_transfer_source_fails_before_anything_is_written(source, tmp_path, path, message):
    with pytest.raises(ValueError, match=message):
        sm.run_lottery(
            FourClassTrainer(),
            config(seeds=[0], levels=1, transfer_from=path.format(source=source)),
            tmp_path / "target",
            progress=False,
        )
    assert not (tmp_path / "target").exists()


def test_an_interrupted_lr_rewinding_chain_resumes_to_the_same_masks_and_results(tmp_path):
    settings = dict(seeds=[0], tickets=["lr_rewind", "random_reinit"], chain="lr_rewind")
    reference = tmp_path / "reference"
    sm.run_lottery(MLPTrainer(), config(**settings), reference, progress=False)
    run = tmp_path / "run"
    with pytest.raises(sm.UnitFailed, match="simulated crash"):
        sm.run_lottery(CrashesOnce((0, 2, "lr_rewind")), config(**settings), run, progress=False)
    resumed = MLPTrainer()
    sm.run_lottery(resumed, config(**settings), run, progress=False)
    assert resumed.calls[0] == (0, 2, "lr_rewind")
    for level in (0, 1, 2):
        assert mask_at(run, 0, level) == mask_at(reference, 0, level)
    assert (run / "results.csv").read_text() == (reference / "results.csv").read_text()


class CrashesOnce(MLPTrainer):
    def __init__(self, key):
        super().__init__()
        self.key = key

    def train(self, unit):
        if (unit.seed, unit.level, unit.ticket) == self.key:
            raise RuntimeError("simulated crash")
        return super().train(unit)
