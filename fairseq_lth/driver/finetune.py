"""Fine-tuning units (Renda, Frankle & Carbin 2020): the trained weights, trained for the lottery's
--finetune-budget at the schedule's final learning rate, the rate fairseq's own scheduler gives to the
last update (at --max-update, or after --max-epoch epochs of the training data's batches)."""

from __future__ import annotations

import math

from fairseq import optim
from fairseq.optim import lr_scheduler
from fairseq.tasks import FairseqTask
from omegaconf import DictConfig
from torch import nn

import shared_mask as sm

from .pruning_hooks import train_batches


def final_learning_rate(cfg: DictConfig, task: FairseqTask, model: nn.Module) -> float:
    """The learning rate of the last update of the training arguments' schedule."""
    updates, epochs = cfg.optimization.max_update, cfg.optimization.max_epoch
    if epochs and not updates:  # the same batches every epoch (the lottery tasks draw them once)
        per_epoch = math.ceil(len(train_batches(cfg, task, model, cfg.common.seed)) / cfg.optimization.update_freq[0])
        updates = epochs * per_epoch
    optimizer = optim.build_optimizer(cfg.optimizer, [p for p in model.parameters() if p.requires_grad])
    scheduler = lr_scheduler.build_lr_scheduler(cfg.lr_scheduler, optimizer)
    scheduler.step_begin_epoch(max(epochs, 1))
    return float(scheduler.step_update(updates - 1))


def finetune_args(budget: sm.Step, lr: float) -> list[str]:
    """fairseq-train options of a fine-tuning unit: its own budget (updates or epochs) at rate ``lr``."""
    length = ["--max-update", str(budget.amount)]
    if budget.unit == "ep":
        length = ["--max-epoch", str(budget.amount), "--max-update", "0"]
    return [*length, "--lth-fixed-lr", repr(lr)]


def max_update(budget: sm.Step | None, default: int) -> int:
    """The unit's --max-update: the fine-tuning budget's updates, 0 for an epoch budget, else ``default``."""
    if budget is None:
        return default
    return budget.amount if budget.unit == "it" else 0
