"""The lottery loop end to end with a small supervised trainer (an MLP on synthetic data)."""

import csv
import json

import pytest
import torch
from safetensors.torch import load_file

import shared_mask as sm
from tests.shared_mask.models import mlp

BATCHES_PER_EPOCH = 4


class MLPTrainer(sm.Trainer):
    """Classifies synthetic points; records what the loop asked for and how each ticket started."""

    def __init__(self, epochs=3, fail_at=None, skip_rewind=False):
        self.epochs, self.fail_at, self.skip_rewind = epochs, fail_at, skip_rewind
        g = torch.Generator().manual_seed(0)
        self.x = torch.randn(BATCHES_PER_EPOCH * 32, 10, generator=g)
        self.y = (self.x @ torch.randn(10, 3, generator=g)).argmax(1)
        self.calls, self.starts, self.units = [], {}, {}

    def config(self):
        return {"experiment": "synthetic-mlp", "metric": "valid_loss", "epochs": self.epochs}

    def build_model(self, seed):
        return mlp(seed)

    def train(self, unit):
        key = (unit.seed, unit.level, unit.ticket)
        self.calls.append(key)
        if key == self.fail_at:
            raise KeyboardInterrupt("simulated crash")
        model = sm.start_model(self, unit)
        self.units[key] = unit
        self.starts[key] = {n: p.detach().clone() for n, p in model.named_parameters()}
        optimizer = torch.optim.SGD(model.parameters(), lr=0.2, momentum=0.9)
        sm.enforce(model, unit.mask, optimizer)
        rewind_at = None
        if unit.capture_rewind is not None and not self.skip_rewind:
            per = BATCHES_PER_EPOCH if unit.capture_rewind.unit == "ep" else 1
            rewind_at = unit.capture_rewind.amount * per
        step = 0
        for _ in range(self.epochs):
            for batch in range(BATCHES_PER_EPOCH):
                if step == rewind_at:
                    self.save_weights(model, unit.rewind_path)
                x, y = self.x[batch * 32 : (batch + 1) * 32], self.y[batch * 32 : (batch + 1) * 32]
                optimizer.zero_grad()
                torch.nn.functional.cross_entropy(model(x), y).backward()
                optimizer.step()
                step += 1
        self.save_weights(model, unit.final_path)
        with torch.no_grad():
            return {"valid_loss": torch.nn.functional.cross_entropy(model(self.x), self.y).item()}


def config(**overrides):
    settings = dict(levels=2, rate=0.2, seeds=[0, 1], tickets=["winning", "random_reinit", "random_mask"], rewind="1ep")
    settings.update(overrides)
    return sm.LotteryConfig(**settings)


def load_model(path, seed=0):
    model = mlp(seed)
    model.load_state_dict(load_file(str(path)))
    return model


def mask_at(run, seed, level):
    return sm.Mask.load(run / f"seed_{seed}" / f"level_{level:02d}" / "mask.safetensors")


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    run = tmp_path_factory.mktemp("lottery") / "run"
    trainer = MLPTrainer()
    sm.run_lottery(trainer, config(), run, progress=False)
    return run, trainer


def test_run_folder_layout(finished):
    run, _ = finished
    assert json.loads((run / "config.json").read_text())["trainer"]["experiment"] == "synthetic-mlp"
    for seed in (0, 1):
        seed_dir = run / f"seed_{seed}"
        assert (seed_dir / "init.safetensors").is_file() and (seed_dir / "rewind.safetensors").is_file()
        assert sorted(p.name for p in (seed_dir / "level_00").iterdir()) == ["dense", "mask.safetensors"]
        for level in (1, 2):
            level_dir = seed_dir / f"level_{level:02d}"
            assert sorted(p.name for p in level_dir.iterdir()) == [
                "mask.safetensors",
                "random_mask",
                "random_reinit",
                "winning",
            ]
            for ticket in ("winning", "random_reinit", "random_mask"):
                assert {"final.safetensors", "metrics.json"} <= {p.name for p in (level_dir / ticket).iterdir()}


def test_results_csv_has_one_row_per_unit_with_the_level_density(finished):
    run, _ = finished
    rows = list(csv.DictReader((run / "results.csv").open()))
    assert list(rows[0]) == ["seed", "level", "density", "fraction_pruned", "ticket", "metric", "value"]
    assert len(rows) == 2 * (1 + 2 * 3)
    for row in rows:
        density = float(row["density"])
        assert density == pytest.approx(0.8 ** int(row["level"]), abs=1e-3)
        assert float(row["fraction_pruned"]) == pytest.approx(1 - density)
        assert row["metric"] == "valid_loss" and float(row["value"]) > 0
    for seed in ("0", "1"):
        assert [r["ticket"] for r in rows if r["seed"] == seed and r["level"] == "0"] == ["dense"]
        for level in ("1", "2"):
            tickets = [r["ticket"] for r in rows if r["seed"] == seed and r["level"] == level]
            assert sorted(tickets) == ["random_mask", "random_reinit", "winning"]


def test_each_mask_is_pruned_from_the_previous_winning_ticket(finished):
    run, _ = finished
    for seed in (0, 1):
        previous, source = mask_at(run, seed, 0), run / f"seed_{seed}" / "level_00" / "dense" / "final.safetensors"
        for level in (1, 2):
            mask = mask_at(run, seed, level)
            assert mask == sm.prune_global(load_model(source, seed), previous, 0.2)
            previous, source = mask, run / f"seed_{seed}" / f"level_{level:02d}" / "winning" / "final.safetensors"


def test_tickets_start_as_specified_and_stay_pruned(finished):
    run, trainer = finished
    seed, level = 0, 2
    mask = mask_at(run, seed, level)
    rewind = load_file(str(run / "seed_0" / "rewind.safetensors"))
    init = load_file(str(run / "seed_0" / "init.safetensors"))
    winning = trainer.starts[(seed, level, "winning")]
    reinit = trainer.starts[(seed, level, "random_reinit")]
    shuffled = trainer.starts[(seed, level, "random_mask")]
    shuffled_mask = trainer.units[(seed, level, "random_mask")].mask
    for name, keep in mask.items():
        assert torch.equal(winning[name], rewind[name] * keep)  # rewound weights under the mask
        assert (reinit[name][~keep] == 0).all()
        # rewound weights under random positions, with the level's count in every tensor
        assert int(shuffled_mask[name].sum()) == int(keep.sum())
        assert torch.equal(shuffled[name], rewind[name] * shuffled_mask[name])
    assert not torch.equal(rewind["0.weight"], init["0.weight"])  # late rewinding: W_j, not W_0
    assert not torch.equal(reinit["0.weight"], winning["0.weight"])
    assert not torch.equal(shuffled["0.weight"] != 0, winning["0.weight"] != 0)
    for ticket in ("winning", "random_reinit"):
        final = load_file(str(run / "seed_0" / "level_02" / ticket / "final.safetensors"))
        assert all((final[n][~keep] == 0).all() for n, keep in mask.items())


def test_rerun_skips_finished_units(finished):
    run, _ = finished
    trainer = MLPTrainer()
    sm.run_lottery(trainer, config(), run, progress=False)
    assert trainer.calls == []


def test_interrupted_run_resumes_to_the_same_masks_and_results(tmp_path, finished):
    reference, _ = finished
    run = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        sm.run_lottery(MLPTrainer(fail_at=(1, 1, "random_reinit")), config(), run, progress=False)
    resumed = MLPTrainer()
    sm.run_lottery(resumed, config(), run, progress=False)
    assert resumed.calls[0] == (1, 1, "random_reinit") and (0, 1, "winning") not in resumed.calls
    for seed in (0, 1):
        for level in (0, 1, 2):
            assert mask_at(run, seed, level) == mask_at(reference, seed, level)
    assert (run / "results.csv").read_text() == (reference / "results.csv").read_text()


def test_deleted_unit_is_redone_alone(tmp_path, finished):
    run = tmp_path / "run"
    sm.run_lottery(MLPTrainer(), config(seeds=[0], levels=1), run, progress=False)
    (run / "seed_0" / "level_01" / "random_mask" / "metrics.json").unlink()
    trainer = MLPTrainer()
    sm.run_lottery(trainer, config(seeds=[0], levels=1), run, progress=False)
    assert trainer.calls == [(0, 1, "random_mask")]


def test_more_levels_and_seeds_extend_an_existing_run(tmp_path):
    run = tmp_path / "run"
    sm.run_lottery(MLPTrainer(), config(seeds=[0], levels=1), run, progress=False)
    trainer = MLPTrainer()
    sm.run_lottery(trainer, config(seeds=[0], levels=2), run, progress=False)
    assert trainer.calls == [(0, 2, t) for t in ("winning", "random_reinit", "random_mask")]
    assert json.loads((run / "config.json").read_text())["lottery"]["levels"] == 2


def test_reset_rewind_copies_the_initial_weights(tmp_path):
    run = tmp_path / "run"
    sm.run_lottery(MLPTrainer(), config(seeds=[0], levels=1, rewind="0"), run, progress=False)
    assert (run / "seed_0" / "rewind.safetensors").read_bytes() == (run / "seed_0" / "init.safetensors").read_bytes()


def test_oneshot_prunes_the_dense_weights_straight_to_each_density(tmp_path):
    run = tmp_path / "run"
    sm.run_lottery(MLPTrainer(), config(seeds=[0], schedule="oneshot", tickets=["winning"]), run, progress=False)
    dense = load_model(run / "seed_0" / "level_00" / "dense" / "final.safetensors")
    for level in (1, 2):
        assert mask_at(run, 0, level) == sm.prune_to_density(dense, mask_at(run, 0, 0), 0.8**level)


def test_scope_limits_what_is_pruned(tmp_path):
    run = tmp_path / "run"
    sm.run_lottery(MLPTrainer(), config(seeds=[0], levels=1, tickets=["winning"], scope="weights"), run, progress=False)
    assert mask_at(run, 0, 1).names() == ["0.weight", "2.weight", "4.weight"]


def test_a_different_configuration_in_the_same_folder_is_refused(tmp_path):
    run = tmp_path / "run"
    sm.run_lottery(MLPTrainer(), config(seeds=[0], levels=1), run, progress=False)
    with pytest.raises(ValueError, match=r"different configuration \(lottery.rate: 0.2 in the folder, 0.3 now\)"):
        sm.run_lottery(MLPTrainer(), config(seeds=[0], levels=1, rate=0.3), run, progress=False)
    with pytest.raises(ValueError, match="trainer.epochs"):
        sm.run_lottery(MLPTrainer(epochs=2), config(seeds=[0], levels=1), run, progress=False)


def test_a_folder_that_is_not_a_run_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="not empty and holds no config.json"):
        sm.run_lottery(MLPTrainer(), config(), tmp_path, progress=False)


def test_a_dense_run_shorter_than_the_rewind_point_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="ended before the rewind point 1ep"):
        sm.run_lottery(MLPTrainer(skip_rewind=True), config(seeds=[0]), tmp_path / "run", progress=False)


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"rate": 1.0}, "pruning rate must be in"),
        ({"levels": -1}, "levels must be a non-negative integer"),
        ({"tickets": ["lucky"]}, "tickets must be distinct names"),
        ({"tickets": ["random_reinit"]}, "include 'winning'"),
        ({"schedule": "sometimes"}, "unknown schedule"),
        ({"rewind": "soon"}, "invalid step"),
        ({"scope": "most"}, "unknown pruning scope"),
        ({"seeds": []}, "seeds must be a non-empty list"),
    ],
)
def test_invalid_configuration_is_a_clear_error(overrides, message):
    with pytest.raises(ValueError, match=message):
        config(**overrides)
