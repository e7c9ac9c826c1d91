"""The deconstructing ticket kinds and open_lth's random masks (what each promises of its start and
mask), and lotteries with the new strategies: pruning at init masks W_0 before the dense unit trains,
criteria read W_0, and an interrupted run resumes to the same masks."""

import pytest
import torch

import shared_mask as sm
from shared_mask.run_config import claim_run_folder
from tests.shared_mask.models import mlp
from tests.shared_mask.test_lottery import MLPTrainer, config, mask_at


@pytest.fixture(scope="module")
def start():
    model = mlp(0)
    mask = sm.PRUNING["random"].prune_to_density(model, sm.Mask.dense(model), 0.3, sm.PruningContext(seed=4))
    return {n: p.detach().clone() for n, p in model.named_parameters()}, mask


def derived(kind, start, seed=11):
    weights, mask = start
    changed = {n: w.clone() for n, w in weights.items()}
    with torch.no_grad():
        sm.TICKETS[kind].derive_weights(changed, mask, seed)
    return changed


def test_reshuffle_keeps_each_tensors_multiset_of_kept_values_and_moves_them(start):
    weights, mask = start
    changed = derived("reshuffle", start)
    for name, keep in mask.items():
        assert torch.equal(changed[name][~keep], weights[name][~keep])
        assert torch.equal(changed[name][keep].sort().values, weights[name][keep].sort().values)
        if keep.sum() > 1:
            assert not torch.equal(changed[name][keep], weights[name][keep]), name
    again = derived("reshuffle", start)
    assert all(torch.equal(again[n], changed[n]) for n in mask.names())


def test_sign_constant_and_sign_random_keep_every_sign_with_the_promised_magnitudes(start):
    weights, mask = start
    constant, random = derived("sign_constant", start), derived("sign_random", start)
    for name in mask.names():
        w = weights[name]
        assert torch.equal(constant[name].sign(), w.sign()) and torch.equal(random[name].sign(), w.sign())
        std = w.double().std().float()
        assert torch.equal(constant[name].abs(), torch.full_like(w, float(std)))
        magnitudes = set(w.abs().flatten().tolist())
        assert set(random[name].abs().flatten().tolist()) <= magnitudes  # drawn from the tensor's own
        assert not torch.equal(random[name], w)
    again = derived("sign_random", start)
    assert all(torch.equal(again[n], random[n]) for n in mask.names())


def test_random_masks_have_exactly_the_counts_their_names_promise(start):
    _, mask = start
    glob = sm.TICKETS["random_mask_global"].derive_mask(mask, 3)
    even = sm.TICKETS["random_mask_even"].derive_mask(mask, 3)
    per_tensor = sm.TICKETS["random_mask"].derive_mask(mask, 3)
    assert glob.alive() == mask.alive() and glob != mask
    density = mask.alive() / mask.numel()
    for name, keep in mask.items():
        assert int(even[name].sum()) == round(density * keep.numel())
        assert int(per_tensor[name].sum()) == int(keep.sum())
    assert [int(glob[n].sum()) for n in mask.names()] != [int(mask[n].sum()) for n in mask.names()]
    assert glob == sm.TICKETS["random_mask_global"].derive_mask(mask, 3)


class HookedTrainer(MLPTrainer):
    """The test MLP with the batch-loss hook (its own training batches) and an all-ones input."""

    def batch_losses(self, model, count, seed):
        for batch in range(count):
            x, y = self.x[batch * 32 : (batch + 1) * 32], self.y[batch * 32 : (batch + 1) * 32]
            yield torch.nn.functional.cross_entropy(model(x), y)

    def ones_output(self, model):
        return model(torch.ones(1, 10, dtype=next(model.parameters()).dtype))


@pytest.mark.parametrize("strategy", ["snip", "grasp", "synflow", "magnitude_init", "random"])
def test_pruning_at_init_masks_w0_at_each_density_and_resumes_after_a_kill(tmp_path, strategy):
    settings = dict(seeds=[0], tickets=["winning"], pruning=strategy, rewind="0")
    with pytest.raises(KeyboardInterrupt):
        sm.run_lottery(HookedTrainer(fail_at=(0, 0, sm.DENSE)), config(**settings), tmp_path / "run", progress=False)
    for level in (1, 2):  # computed from W_0 before the dense unit trained
        assert mask_at(tmp_path / "run", 0, level).alive() == round(
            0.8**level * mask_at(tmp_path / "run", 0, 0).alive()
        )
    first = [mask_at(tmp_path / "run", 0, level) for level in (1, 2)]
    for level in (1, 2):
        (tmp_path / "run" / "seed_0" / f"level_{level:02d}" / "mask.safetensors").unlink()
    sm.run_lottery(HookedTrainer(), config(**settings), tmp_path / "run", progress=False)
    assert [mask_at(tmp_path / "run", 0, level) for level in (1, 2)] == first
    if strategy == "magnitude_init":
        init = HookedTrainer().load_weights(tmp_path / "run" / "seed_0" / "init.safetensors", mlp(0))
        assert first[1] == sm.prune_to_density(init, mask_at(tmp_path / "run", 0, 0), 0.64)


def test_a_trainer_without_the_hook_fails_before_anything_is_written(tmp_path):
    with pytest.raises(ValueError, match="needs the trainer's batch_losses hook"):
        sm.run_lottery(MLPTrainer(), config(pruning="snip"), tmp_path / "run", progress=False)
    assert not (tmp_path / "run").exists()


def test_a_criterion_reads_w0_through_the_trainer(tmp_path):
    run = tmp_path / "run"
    sm.run_lottery(
        MLPTrainer(), config(seeds=[0], levels=1, tickets=["winning"], pruning="movement"), run, progress=False
    )
    trainer = MLPTrainer()
    init = trainer.read_state(run / "seed_0" / "init.safetensors")
    final = trainer.read_state(run / "seed_0" / "level_00" / "dense" / "final.safetensors")
    scores = {n: (final[n] - init[n]).abs() for n in mask_at(run, 0, 0).names()}
    assert mask_at(run, 0, 1) == sm.select_lowest(scores, mask_at(run, 0, 0), round(0.2 * mask_at(run, 0, 0).alive()))


def test_finetune_without_a_budget_is_refused_and_with_one_is_carried_by_its_units(tmp_path):
    with pytest.raises(ValueError, match="finetune ticket trains for --finetune-budget"):
        config(tickets=["winning", "finetune"])
    lottery, trainer = config(tickets=["winning", "finetune"], finetune_budget="3it"), MLPTrainer()
    claim_run_folder(sm.RunFolder(tmp_path / "run"), lottery, trainer.config())  # a plan reads its config.json
    plan = sm.plan.LotteryPlan(trainer, lottery, tmp_path / "run")
    assert plan.unit((0, 1, "finetune")).budget == sm.parse_step("3it")
    assert plan.unit((0, 1, "winning")).budget is None


def test_prune_from_rewind_masks_the_rewind_weights_once_the_dense_unit_wrote_them(tmp_path):
    run, settings = tmp_path / "run", dict(seeds=[0], levels=1, tickets=["winning"], pruning="magnitude_init")
    with pytest.raises(KeyboardInterrupt):
        sm.run_lottery(
            MLPTrainer(fail_at=(0, 0, sm.DENSE)), config(**settings, prune_from="rewind"), run, progress=False
        )
    assert not (run / "seed_0" / "level_01" / "mask.safetensors").exists()  # W_j not written yet
    sm.run_lottery(MLPTrainer(), config(**settings, prune_from="rewind"), run, progress=False)
    rewind = MLPTrainer().load_weights(run / "seed_0" / "rewind.safetensors", mlp(0))
    assert mask_at(run, 0, 1) == sm.prune_to_density(rewind, mask_at(run, 0, 0), 0.8)
    init = MLPTrainer().load_weights(run / "seed_0" / "init.safetensors", mlp(0))
    assert mask_at(run, 0, 1) != sm.prune_to_density(init, mask_at(run, 0, 0), 0.8)


def test_a_finetune_ticket_and_its_budget_may_be_added_to_a_finished_run(tmp_path):
    run = tmp_path / "run"
    sm.run_lottery(MLPTrainer(), config(seeds=[0], levels=1, tickets=["winning"]), run, progress=False)
    trainer = MLPTrainer()
    more = config(seeds=[0], levels=1, tickets=["winning", "finetune"], finetune_budget="2ep")
    sm.run_lottery(trainer, more, run, progress=False)
    assert trainer.calls == [(0, 1, "finetune")] and trainer.units[0, 1, "finetune"].budget == sm.parse_step("2ep")
