"""The driver's hooks for pruning at initialization, in-process with fairseq's task API (its data,
dictionaries and criterion): the training losses of a few batches (SNIP, GraSP) and the model's
output on an all-ones input (SynFlow)."""

from __future__ import annotations

import torch
from fairseq import utils
from fairseq.tasks import FairseqTask
from omegaconf import DictConfig
from torch import nn

from .train_args import quiet


def batch_losses(cfg: DictConfig, task: FairseqTask, model: nn.Module, count: int, seed: int) -> list[torch.Tensor]:
    """The task's criterion on the first ``count`` training batches of an epoch shuffled with ``seed``
    (fairseq-train's batching: --max-tokens, --batch-size), each loss divided by its sample size as
    fairseq's gradient is; the model in training mode with dropout drawn from ``seed``."""
    iterator = train_batches(cfg, task, model, seed)
    with quiet():
        criterion = task.build_criterion(cfg.criterion)
    if len(iterator) < count:
        raise ValueError(f"the training data has {len(iterator)} batches, fewer than the {count} asked for")
    device = next(model.parameters()).device
    model.train()
    losses = []
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for _, sample in zip(range(count), iterator):
            loss, sample_size, _ = criterion(
                model, utils.move_to_cuda(sample, device) if device.type == "cuda" else sample
            )
            losses.append(loss / max(sample_size, 1))
    return losses


def train_batches(cfg: DictConfig, task: FairseqTask, model: nn.Module, seed: int):
    """The first epoch's training batches as fairseq-train draws them (--max-tokens, --batch-size),
    shuffled with ``seed``."""
    with quiet():
        task.load_dataset(cfg.dataset.train_subset, combine=False, epoch=1)
        return task.get_batch_iterator(
            task.dataset(cfg.dataset.train_subset),
            max_tokens=cfg.dataset.max_tokens,
            max_sentences=cfg.dataset.batch_size,
            max_positions=utils.resolve_max_positions(task.max_positions(), model.max_positions()),
            ignore_invalid_inputs=True,
            required_batch_size_multiple=cfg.dataset.required_batch_size_multiple,
            seed=seed,
        ).next_epoch_itr(shuffle=True)


def ones_output(task: FairseqTask, model: nn.Module) -> torch.Tensor:
    """The model's output logits for one sequence of 4 tokens (SynFlow replaces every embedding lookup by
    the sum of all rows, so which token does not matter; it is not padding, which attention would mask)."""
    device = next(model.parameters()).device
    tokens = torch.full((1, 4), task.source_dictionary.unk(), device=device)
    if hasattr(model, "encoder"):  # translation: source tokens, their lengths, the decoder's previous tokens
        return model(tokens, torch.tensor([4], device=device), tokens)[0]
    return model(tokens)[0]
