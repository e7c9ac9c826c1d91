"""``--task lottery_translation``: fairseq's translation task training a lottery ticket.

Dense run (captures the rewind checkpoint at update 1000)::

    fairseq-train DATA --user-dir fairseq_lth --task lottery_translation --arch transformer_wmt_en_de \\
        --save-interval-updates 1000 --lth-rewind-updates 1000 --lth-rewind-checkpoint RUN/rewind.pt ...

Ticket run (starts from it, keeps the mask's pruned entries exactly zero)::

    fairseq-train DATA --user-dir fairseq_lth --task lottery_translation --arch transformer_wmt_en_de \\
        --continue-once RUN/rewind.pt --lth-mask level_01/mask.safetensors --lth-ticket winning ...
"""
from dataclasses import dataclass

from fairseq import models
from fairseq.tasks import register_task
from fairseq.tasks.translation import TranslationConfig, TranslationTask

from ..hooks import LotteryHooks, LotteryOptions


@dataclass
class LotteryTranslationConfig(TranslationConfig, LotteryOptions):
    pass


@register_task("lottery_translation", dataclass=LotteryTranslationConfig)
class LotteryTranslationTask(TranslationTask):
    cfg: LotteryTranslationConfig

    def __init__(self, cfg: LotteryTranslationConfig, src_dict, tgt_dict):
        super().__init__(cfg, src_dict, tgt_dict)
        self.lottery = LotteryHooks(cfg)

    def build_model(self, cfg, from_checkpoint=False):
        model = super().build_model(cfg, from_checkpoint)
        if not from_checkpoint:  # training; loading a model for generation needs no lottery
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
