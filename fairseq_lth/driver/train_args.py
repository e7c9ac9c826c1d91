"""The fairseq-train arguments of a lottery, parsed and checked before anything is written.

fairseq-train would find most mistakes itself, but only once a unit runs: after the run folder is
claimed (so the corrected command is refused there as "a different configuration"), or after hours of
training (a scoring subset missing from the data). The driver parses the arguments with fairseq's own
parser, sets up the task and builds the model as fairseq-train does, builds the optimizer, and checks
the data subsets and the rewind point; every mistake is a ValueError or FileNotFoundError naming it.
"""

from __future__ import annotations

import argparse
import difflib
import logging
import math
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import torch
from fairseq import optim, options, tasks
from fairseq.dataclass.utils import convert_namespace_to_omegaconf
from fairseq.optim import lr_scheduler
from omegaconf import DictConfig, OmegaConf

from shared_mask import Step

from ..plugin.rewind import check_saved
from .processes import PLUGIN_DIR

# Options the driver sets itself for every unit.
RESERVED = (
    "--task",
    "--user-dir",
    "--seed",
    "--save-dir",
    "--continue-once",
    "--restore-file",
    "--tensorboard-logdir",
    "--lth-",
)
_CHOICE = re.compile(r"invalid choice: '([^']*)' \(choose from (.*)\)$")
# Settings of torch optimizers (fairseq's ``optimizer_config``) and the range torch accepts.
_RANGES = {
    "lr": (0, math.inf),
    "eps": (0, math.inf),
    "weight_decay": (0, math.inf),
    "momentum": (0, math.inf),
    "betas": (0, 1),
}


def reserved_args(train_args: list[str]) -> None:
    """Refuse the options the driver sets itself."""
    reserved = [a for a in train_args if a.startswith(RESERVED)]
    if reserved:
        raise ValueError(
            "the driver sets these options itself; remove them from the fairseq-train arguments "
            f"(after --): {' '.join(reserved)}"
        )


def parse_train_args(data: str, task: str, scope: str, train_args: list[str]) -> tuple[DictConfig, tasks.FairseqTask]:
    """fairseq's config and task for ``train_args``, as fairseq-train would parse them for a unit."""
    named = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    named.add_argument("--arch", "-a")
    if named.parse_known_args(train_args)[0].arch is None:  # fairseq's parser fails without a message
        raise ValueError("the fairseq-train arguments name no model: add --arch, e.g. --arch transformer")
    parser = options.get_training_parser()
    parser.error = _refuse
    with quiet():
        try:
            args = options.parse_args_and_arch(
                parser, [data, "--user-dir", PLUGIN_DIR, "--task", task, "--lth-scope", scope, *train_args]
            )
        except SystemExit:  # --help among the fairseq-train arguments
            raise ValueError("fairseq-train's own options are listed by fairseq-train --help") from None
        cfg = convert_namespace_to_omegaconf(args)
        return cfg, tasks.setup_task(cfg.task)


def check_train_args(cfg: DictConfig, task: tasks.FairseqTask, rewind: Step | None, subsets: dict[str, str]) -> None:
    """Check that training ends, the optimizer settings, that the data holds ``subsets`` (name -> what it
    is for) and the splits fairseq-train reads, and that fairseq-train saves a checkpoint at ``rewind``."""
    if not (cfg.optimization.max_update or cfg.optimization.max_epoch):
        raise ValueError(
            "the fairseq-train arguments never end training: give every unit the same budget with "
            "--max-update or --max-epoch"
        )
    _check_finite(cfg)
    _check_optimizer(cfg)
    _check_subsets(cfg, task, subsets)
    if rewind is not None and not rewind.is_zero:
        _check_rewind(cfg, rewind)


@contextmanager
def quiet() -> Iterator[None]:
    """Without fairseq's info logs and hydra's deprecation warnings: the driver's output is its own."""
    logging.disable(logging.INFO)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logging.disable(logging.NOTSET)


def _refuse(message: str):
    """fairseq's parser error as a ValueError (argparse would print its usage and exit)."""
    choice = _CHOICE.search(message)
    if choice:
        given, known = choice.group(1), [c.strip("'") for c in choice.group(2).split(", ")]
        close = difflib.get_close_matches(given, known, n=3)
        message = (
            message[: choice.start()]
            + f"invalid choice: {given!r}"
            + (f" (did you mean {' or '.join(close)}?)" if close else f" ({len(known)} choices)")
        )
    raise ValueError(f"fairseq-train arguments: {message}")


def _check_finite(cfg: DictConfig) -> None:
    """NaN and infinity pass fairseq's parser for most numbers, and comparisons such as ``lr < 0``."""
    for group in ("optimization", "optimizer", "lr_scheduler", "criterion", "model"):
        settings = cfg[group]
        settings = (
            OmegaConf.to_container(settings, resolve=True)
            if isinstance(settings, DictConfig)
            else vars(settings)
            if isinstance(settings, argparse.Namespace)
            else {}
        )
        for name, value in settings.items():
            if any(isinstance(v, float) and not math.isfinite(v) for v in _values(value)):
                raise ValueError(f"--{name.replace('_', '-')} {value}: expected finite numbers")


def _check_optimizer(cfg: DictConfig) -> None:
    """Build the optimizer and its schedule as fairseq-train does; torch's ranges for the settings it is
    built with (fairseq's own Adam accepts a negative eps, for one)."""
    if cfg.optimizer is None:
        raise ValueError("the fairseq-train arguments name no optimizer: add --optimizer, e.g. --optimizer adam")
    name = cfg.optimizer._name
    try:
        with quiet():
            optimizer = optim.build_optimizer(cfg.optimizer, [torch.nn.Parameter(torch.zeros(1))])
            lr_scheduler.build_lr_scheduler(cfg.lr_scheduler, optimizer)
    except (ValueError, AssertionError, SyntaxError, NameError, TypeError) as error:  # --adam-betas "(0.9,"
        raise ValueError(f"--optimizer {name}: {type(error).__name__}: {error}") from error
    for key, value in optimizer.optimizer_config.items():
        low, high = _RANGES.get(key, (-math.inf, math.inf))
        if not all(low <= v < high for v in _values(value) if isinstance(v, (int, float))):
            bound = f"in [{low}, {high})" if high < math.inf else f">= {low}"
            raise ValueError(f"--optimizer {name}: its {key} must be {bound}, got {value}")


def _values(value) -> list:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _check_subsets(cfg: DictConfig, task: tasks.FairseqTask, subsets: dict[str, str]) -> None:
    wanted = {cfg.dataset.train_subset: "the training subset (--train-subset)"}
    if not cfg.dataset.disable_validation:
        wanted.update({s: "a validation subset (--valid-subset)" for s in cfg.dataset.valid_subset.split(",")})
    wanted.update(subsets)
    data = cfg.task.data
    for split, use in wanted.items():
        try:
            with quiet():
                task.load_dataset(split)
        except FileNotFoundError:
            raise FileNotFoundError(f"{data} has no {split!r} subset, {use}") from None


def _check_rewind(cfg: DictConfig, rewind: Step) -> None:
    end = _saved_before(cfg, rewind, "--rewind")
    if end is not None:
        raise ValueError(
            f"--rewind {rewind}: the dense run ends at {end}, before the rewind point is reached; rewind "
            "earlier or train longer"
        )


def check_stability_point(cfg: DictConfig, point: Step) -> None:
    """A stability point k is a checkpoint the dense run saves (on a save boundary), before its end."""
    if point.is_zero:
        return
    end = _saved_before(cfg, point, "--stability-points")
    if end is not None:
        raise ValueError(f"--stability-points {point} is not before the end of training ({end})")


def _saved_before(cfg: DictConfig, point: Step, option: str) -> str | None:
    """Raise (naming ``option``) unless the dense run saves a checkpoint at ``point``; return its end
    (``--max-update N``) when ``point`` is not before it, else None."""
    checkpoint, optimization = cfg.checkpoint, cfg.optimization
    try:
        check_saved(
            point,
            checkpoint.save_interval_updates,
            checkpoint.save_interval,
            checkpoint.no_save,
            checkpoint.no_last_checkpoints,
        )
    except ValueError as error:
        raise ValueError(f"{option} {point}: {error}") from error
    epochs = point.unit == "ep"
    end = optimization.max_epoch if epochs else optimization.max_update
    return f"{'--max-epoch' if epochs else '--max-update'} {end}" if end and point.amount >= end else None
