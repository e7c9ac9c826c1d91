"""The lottery side of every plugin task: fairseq's task callbacks routed to :class:`LotteryHooks`, and
what makes a resumed fairseq-train replay exactly the updates of an uninterrupted one."""

from fairseq import models

import shared_mask as sm

from ..errors import one_line_errors
from ..hooks import LotteryHooks
from ..loss_scale import load_scaler_state, scaler_state


class LotteryTask:
    """Mixed in before a fairseq task class (``class T(LotteryTask, TranslationTask)``).

    The task's config must include :class:`~fairseq_lth.plugin.hooks.LotteryOptions`; ``default_rewind``
    is the late-rewinding point used when neither --lth-rewind-updates nor --lth-rewind-epochs is given
    (the config's ``rewind_updates_field(default_rewind)`` names it in the help; the driver reads it too).
    """

    default_rewind: sm.Step

    def __init__(self, cfg, *args, **kwargs):
        super().__init__(cfg, *args, **kwargs)
        with one_line_errors():
            self.lottery = LotteryHooks(cfg, self.default_rewind)
        self._optimizer = None
        self._resumed_scaler: dict = {}

    def build_model(self, cfg, from_checkpoint=False):
        model = super().build_model(cfg, from_checkpoint)
        if not from_checkpoint:  # training; loading a model for generation or scoring needs no lottery
            with one_line_errors():  # the plugin's checks: a mask of another model, a rewind point never saved
                self.lottery.attach(model, fresh_model=lambda: models.build_model(cfg, self))
        return model

    def get_batch_iterator(
        self, dataset, *args, epoch=1, disable_iterator_cache=False, update_epoch_batch_itr=False, **kwargs
    ):
        """fairseq's iterator, with the batches of a run drawn as in epoch 1 wherever it resumes.

        fairseq draws a dataset's batches once per run, seeded with the epoch the run starts in, and
        only shuffles their order in later epochs; a run resumed in epoch 2 would train on other batches
        than the uninterrupted run. fairseq then moves the iterator to the checkpoint's epoch and
        position. Iterators that fairseq rebuilds every epoch are left as they are.
        """
        drawn_once = not (disable_iterator_cache or update_epoch_batch_itr) and self.can_reuse_epoch_itr(dataset)
        return super().get_batch_iterator(
            dataset,
            *args,
            epoch=1 if drawn_once else epoch,
            disable_iterator_cache=disable_iterator_cache,
            update_epoch_batch_itr=update_epoch_batch_itr,
            **kwargs,
        )

    def get_checkpoint_dict(self):
        """Saved with every checkpoint: the loss scaler's state (see :mod:`fairseq_lth.plugin.loss_scale`)."""
        return {type(self).__name__: {"loss_scaler": scaler_state(self._optimizer)}}

    def set_checkpoint_dict(self, state):
        self._resumed_scaler = state.get("loss_scaler", {})

    def begin_epoch(self, epoch, model):
        super().begin_epoch(epoch, model)
        self.lottery.begin_epoch(epoch)

    def train_step(self, sample, model, criterion, optimizer, update_num, ignore_grad=False):
        if optimizer is not self._optimizer:
            self._optimizer = optimizer
            load_scaler_state(optimizer, self._resumed_scaler)
        self.lottery.before_train_step(optimizer, update_num)
        result = super().train_step(sample, model, criterion, optimizer, update_num, ignore_grad)
        self.lottery.after_backward()
        return result

    def optimizer_step(self, optimizer, model, update_num):
        super().optimizer_step(optimizer, model, update_num)
        self.lottery.after_optimizer_step(update_num)

    def reduce_metrics(self, logging_outputs, criterion):
        super().reduce_metrics(logging_outputs, criterion)
        self.lottery.log_metrics()
