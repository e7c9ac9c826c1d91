"""The lottery side of every plugin task: fairseq's task callbacks routed to :class:`LotteryHooks`."""
from fairseq import models

from ..hooks import LotteryHooks
from ..rewind import RewindPoint


class LotteryTask:
    """Mixed in before a fairseq task class (``class T(LotteryTask, TranslationTask)``).

    The task's config must include :class:`~fairseq_lth.hooks.LotteryOptions`; ``default_rewind``
    is the late-rewinding point used when neither --lth-rewind-updates nor --lth-rewind-epochs is given.
    """

    default_rewind: RewindPoint

    def __init__(self, cfg, *args, **kwargs):
        super().__init__(cfg, *args, **kwargs)
        self.lottery = LotteryHooks(cfg, self.default_rewind)

    def build_model(self, cfg, from_checkpoint=False):
        model = super().build_model(cfg, from_checkpoint)
        if not from_checkpoint:  # training; loading a model for generation or scoring needs no lottery
            self.lottery.attach(model, fresh_model=lambda: models.build_model(cfg, self))
        return model

    def begin_epoch(self, epoch, model):
        super().begin_epoch(epoch, model)
        self.lottery.begin_epoch(epoch)

    def train_step(self, sample, model, criterion, optimizer, update_num, ignore_grad=False):
        self.lottery.before_train_step(optimizer, update_num)
        result = super().train_step(sample, model, criterion, optimizer, update_num, ignore_grad)
        self.lottery.after_backward()
        return result

    def optimizer_step(self, optimizer, model, update_num):
        super().optimizer_step(optimizer, model, update_num)
        self.lottery.after_optimizer_step()

    def reduce_metrics(self, logging_outputs, criterion):
        super().reduce_metrics(logging_outputs, criterion)
        self.lottery.log_metrics()
