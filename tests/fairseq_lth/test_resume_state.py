"""What a resumed fairseq-train needs beyond fairseq's checkpoint: the uninterrupted run's batches, the
loss scaler's counters, an intact checkpoint_last.pt."""

import shutil

from fairseq.optim.dynamic_loss_scaler import DynamicLossScaler

from fairseq_lth.driver.checkpoints import checkpoint_updates, usable_last_checkpoint
from fairseq_lth.driver.train_args import parse_train_args
from fairseq_lth.plugin.loss_scale import load_scaler_state, scaler_state

from .conftest import MODEL_ARGS


def train_batches(data, epoch, state=None):
    """The batches (sentence ids) of one epoch, as fairseq-train's trainer asks the task for them."""
    _, task = parse_train_args(str(data), "lottery_translation", "all", MODEL_ARGS)
    task.load_dataset("train", epoch=epoch)
    iterator = task.get_batch_iterator(
        dataset=task.dataset("train"),
        max_tokens=500,
        seed=1,
        epoch=epoch,
        num_workers=0,
        max_positions=(1024, 1024),
        required_batch_size_multiple=8,
    )
    if state is not None:
        iterator.load_state_dict(state)
    return lambda: [batch["id"].tolist() for batch in iterator.next_epoch_itr(shuffle=True)]


def test_a_run_resumed_in_epoch_2_trains_on_the_uninterrupted_runs_batches(data):
    next_epoch = train_batches(data, epoch=1)
    first = next_epoch()
    second = next_epoch()
    resumed = train_batches(
        data, epoch=2, state={"version": 2, "epoch": 2, "iterations_in_epoch": 1, "shuffle": True}
    )()
    assert resumed == second[1:]
    assert second != first and sorted(map(sorted, second)) == sorted(map(sorted, first))  # reshuffled


class FP16Optimizer:
    def __init__(self):
        self.scaler = DynamicLossScaler(init_scale=2.0**7, scale_window=4)


def test_the_loss_scalers_counters_survive_a_checkpoint():
    trained = FP16Optimizer()
    for _ in range(3):
        trained.scaler.update()
    try:
        trained.scaler.check_overflow(float("inf"))
    except OverflowError:
        pass
    saved = scaler_state(trained)
    resumed = FP16Optimizer()
    load_scaler_state(resumed, saved)
    assert vars(resumed.scaler) == vars(trained.scaler)
    assert resumed.scaler._last_overflow_iter == 3 and resumed.scaler.loss_scale == 2.0**6
    assert scaler_state(object()) == {}


def test_a_checkpoint_last_truncated_by_a_kill_is_replaced_by_the_latest_intact_checkpoint(dense, tmp_path):
    for name in ("checkpoint_1_2.pt", "checkpoint_1_4.pt"):
        shutil.copy(dense / name, tmp_path / name)
    whole = (dense / "checkpoint_1_6.pt").read_bytes()
    (tmp_path / "checkpoint_1_6.pt").write_bytes(whole[: len(whole) // 2])  # a kill during fairseq's own save
    (tmp_path / "checkpoint_last.pt").write_bytes(whole[:100])  # a kill during fairseq's copy
    assert checkpoint_updates(usable_last_checkpoint(tmp_path)) == 4
    assert usable_last_checkpoint(tmp_path) == tmp_path / "checkpoint_last.pt"  # intact now: kept
    for path in tmp_path.glob("checkpoint_1_*.pt"):
        path.unlink()
    (tmp_path / "checkpoint_last.pt").write_bytes(b"")
    assert usable_last_checkpoint(tmp_path) is None and not list(tmp_path.iterdir())  # training starts over
