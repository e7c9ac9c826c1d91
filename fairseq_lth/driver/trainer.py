"""The lottery trainer of fairseq-lth-imp: each unit a fairseq-train subprocess, models built in-process.

Rerunning resumes, and a resumed unit ends exactly as an uninterrupted one: fairseq-train resumes
from its checkpoint_last.pt (see :meth:`FairseqTrainer.train` for the steps of a unit).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict
from pathlib import Path

import torch
from fairseq import models
from omegaconf import OmegaConf
from torch import nn

import shared_mask as sm
from shared_mask.files import write_json
from shared_mask.finite import check_finite

from ..plugin.checkpoint_compat import load_checked, save_checked
from . import pruning_hooks
from .checkpoints import checkpoint_updates, model_checkpoint, scored_checkpoint, usable_last_checkpoint
from .finetune import final_learning_rate, finetune_args, max_update
from .processes import PLUGIN_DIR, Member, fairseq_program, run_group
from .ranks import check_ranks, cpu_world_size, rank_commands
from .stability import SUBSET, metric_of, validate
from .task_kinds import TASKS
from .ticket_start import start_checkpoint, supermask_checkpoint
from .train_args import check_stability_point, check_train_args, parse_train_args, quiet, reserved_args
from .unit_lock import unit_lock
from .unit_progress import UnitProgress


def continue_from(unit: sm.Unit) -> Path:
    """The checkpoint a unit's fairseq-train starts from (``--continue-once``): W_0 for the dense run, W_k for a
    stability child, the ticket kind's start for a ticket."""
    if unit.start_path is not None:
        return unit.start_path
    return unit.init_path if unit.ticket == sm.DENSE else start_checkpoint(unit)


class FairseqTrainer(sm.Trainer):
    """Runs each lottery unit as a fairseq-train subprocess; builds models in-process for masks.

    :meth:`check` checks the fairseq side of a lottery before its run folder is touched.
    """

    suffix = ".pt"
    studies = frozenset({"early_bird", "stability"})
    replays_points = False  # the dense unit captures W_k (a replay to k would need another LR schedule)

    def __init__(
        self,
        data: str,
        train_args: list[str],
        scope: str,
        evaluation,
        keep_checkpoints: bool = False,
        task: str = "lottery_translation",
        extensions: list[str] = (),
        progress: bool = True,
        verify_masks: bool = False,
    ):
        if task not in TASKS:
            raise ValueError(f"unknown task {task!r}; choose one of {', '.join(TASKS)}")
        kind = TASKS[task]
        if not isinstance(evaluation, kind.eval_config):
            raise TypeError(
                f"--task {task} is scored with a {kind.eval_config.__name__}, got a {type(evaluation).__name__}"
            )
        reserved_args(train_args)
        if not Path(data).is_dir():
            raise FileNotFoundError(f"--data {data}: no such directory")
        if not list(Path(data).glob(kind.dictionaries)):
            raise FileNotFoundError(
                f"{data} is not a binarized fairseq data directory for --task {task} "
                f"(no {kind.dictionaries}; make one with {kind.preprocess})"
            )
        self.data = str(Path(data).resolve())
        self.task = task
        self.train_args = list(train_args)
        self.scope = scope
        self.evaluation = evaluation
        self.keep_checkpoints = keep_checkpoints
        self.extensions = list(extensions)  # modules registering ticket kinds, imported by fairseq-train too
        self.progress = progress
        self.verify_masks = verify_masks  # every rank checks its pruned entries after every update
        self._cfg = self._task = None
        self.line_metric = metric_of(task)

    def evaluate(self, model: nn.Module, seed: int) -> float:
        return validate(self, model)

    def evaluation_config(self) -> dict:
        return {"metric": self.line_metric[0], "subset": SUBSET}

    def check(self, rewind: str | None) -> None:
        """Check what fairseq-train would refuse or fail on, hours into a lottery: the arguments (with
        fairseq's own parser), the model they build, the optimizer, the data subsets the lottery reads
        and the ``rewind`` point (see :mod:`fairseq_lth.driver.train_args`)."""
        cfg, fairseq_task = self._setup()
        try:
            self.build_model(0)
        except (ValueError, AssertionError) as error:
            raise ValueError(f"the fairseq-train arguments build no model: {error}") from error
        check_ranks(cfg, self.train_args)
        check_train_args(
            cfg,
            fairseq_task,
            None if rewind is None else sm.parse_step(rewind),
            {self.evaluation.subset: "the scoring subset (--gen-subset)"},
        )

    def check_point(self, point: sm.Step) -> None:
        """A stability point on a save boundary of the dense run, before its end."""
        check_stability_point(self._setup()[0], point)

    def __getstate__(self) -> dict:
        """Sent to Ray workers without fairseq's task and config, which each process builds again."""
        return {**self.__dict__, "_cfg": None, "_task": None}

    def config(self) -> dict:
        data = Path(self.data)  # the recipes' data/<dataset>/bin: name the experiment after the dataset
        return {
            "experiment": data.parent.name if data.name == "bin" else data.name,
            "task": self.task,
            "metric": self.evaluation.metric,
            "higher_is_better": self.evaluation.higher_is_better,
            "data": self.data,
            "train_args": self.train_args,
            "evaluation": asdict(self.evaluation),
        }

    def _setup(self):
        """fairseq's config and task for the training arguments (dictionaries loaded once)."""
        if self._task is None:
            self._cfg, self._task = parse_train_args(self.data, self.task, self.scope, self.train_args)
        return self._cfg, self._task

    def build_model(self, seed: int) -> nn.Module:
        """fairseq's model with its own initialization, deterministic in ``seed`` (as the random_reinit
        ticket of the plugin draws it)."""
        cfg, task = self._setup()
        with torch.random.fork_rng(devices=[]), quiet():
            torch.manual_seed(seed)
            return models.build_model(cfg.model, task)

    def save_weights(self, model: nn.Module, path: Path) -> None:
        """A fairseq checkpoint at update 0 (no optimizer state): the start of the dense run."""
        cfg, _ = self._setup()
        state = {
            "args": None,
            "cfg": OmegaConf.to_container(cfg, resolve=True, enum_to_str=True),
            "model": model.state_dict(),
            "criterion": None,
            "optimizer_history": [
                {"criterion_name": "", "optimizer_name": "", "lr_scheduler_state": {}, "num_updates": 0}
            ],
            "task_state": {},
            "extra_state": {
                "train_iterator": {"version": 2, "epoch": 1, "iterations_in_epoch": 0, "shuffle": True},
                "previous_training_time": 0.0,
            },
            "last_optimizer_state": None,
        }
        save_checked(state, path)

    def batch_losses(self, model: nn.Module, count: int, seed: int) -> list[torch.Tensor]:
        """The task's criterion on ``count`` training batches (snip, grasp)."""
        return pruning_hooks.batch_losses(*self._setup(), model, count, seed)

    def ones_output(self, model: nn.Module) -> torch.Tensor:
        """The model's logits for an all-ones input (synflow)."""
        return pruning_hooks.ones_output(self._setup()[1], model)

    def read_state(self, path: Path) -> dict:
        return load_checked(path)["model"]

    def load_weights(self, path: Path, model: nn.Module) -> nn.Module:
        model.load_state_dict(self.read_state(path), strict=True)
        return model

    def train_command(self, unit: sm.Unit) -> list[str]:
        cmd = [
            *fairseq_program("fairseq_cli.train"),
            self.data,
            "--user-dir",
            PLUGIN_DIR,
            "--task",
            self.task,
            *self.train_args,
            "--seed",
            str(unit.seed if unit.noise_seed is None else unit.noise_seed),
            "--save-dir",
            str(unit.files.checkpoints),
            "--tensorboard-logdir",
            str(unit.files.tb),
            "--lth-scope",
            self.scope,
        ]
        if self.extensions:
            cmd += ["--lth-extensions", ",".join(self.extensions)]
        if self.verify_masks:
            cmd.append("--lth-verify-masks")
        cmd += ["--continue-once", str(continue_from(unit))]
        if unit.start_path is not None:  # a stability child: W_k (fairseq's checkpoint at k) under the level's mask
            cmd += ["--lth-mask", str(unit.mask_path)]
            cmd += ["--lth-ticket", sm.WINNING, "--lth-ticket-seed", str(unit.ticket_seed)]
        elif unit.ticket == sm.DENSE:
            if unit.captures:
                cmd += ["--lth-captures", ",".join(f"{step}={path}" for step, path in unit.captures)]
            if unit.early_bird is not None:
                cmd += ["--lth-early-bird", str(unit.files.early_bird_spec)]
            if unit.capture_rewind is not None:
                step = unit.capture_rewind
                cmd += [
                    "--lth-rewind-updates" if step.unit == "it" else "--lth-rewind-epochs",
                    str(step.amount),
                    "--lth-rewind-checkpoint",
                    str(unit.rewind_path),
                ]
        else:
            # The level's mask (a transferred ticket's: the source's, fitted): the plugin derives the ticket's
            # own (random_mask's positions) with the same seed, and re-initializes kinds that start fresh.
            cmd += [
                "--lth-mask",
                str(unit.mask_path),
                "--lth-ticket",
                unit.ticket,
                "--lth-ticket-seed",
                str(unit.ticket_seed),
            ]
            if sm.ticket_kind(unit.ticket).fine_tunes:
                cmd += finetune_args(unit.budget, final_learning_rate(*self._setup(), self.build_model(unit.seed)))
        return cmd

    def train(self, unit: sm.Unit) -> dict[str, float]:
        """Train, score and clean up one unit, each step skipped when a file says it is done, so that a rerun
        after a kill at any moment ends exactly as an uninterrupted run:

        1. fairseq-train, unless final.pt exists (training finished: fairseq-train resumed at
           --max-update would make one more update); it resumes from checkpoint_last.pt, and
           final.pt is written as soon as it ends;
        2. scoring from the kept checkpoints (their average kept as scored.pt), unless scores.json holds the
           scores (a stability child has none: the line of its point is its score);
        3. the checkpoints are deleted (unless kept) once the scores are saved.

        The unit's lock (:mod:`fairseq_lth.driver.unit_lock`) keeps a leftover fairseq-train out of a rerun.
        """
        files, cfg = unit.files, self._setup()[0]
        save_dir = files.checkpoints
        with (
            unit_lock(unit.dir) as lock,
            UnitProgress(unit, cfg.optimization.max_update, cfg.optimization.max_epoch, self.progress) as progress,
        ):
            if not unit.final_path.exists() and not sm.ticket_kind(unit.ticket).trains:
                model_checkpoint(supermask_checkpoint(unit, save_dir / "checkpoint_last.pt"), unit.final_path)
            if not unit.final_path.exists():
                last = usable_last_checkpoint(save_dir)
                if last is None:  # fairseq-train does not check the start's checksum: a damaged start stops here
                    load_checked(continue_from(unit))
                if last is None or not self._finished(last, unit):
                    if unit.early_bird is not None:
                        unit.dir.mkdir(parents=True, exist_ok=True)
                        write_json(unit.files.early_bird_spec, unit.early_bird.spec())
                    commands = rank_commands(self.train_command(unit), self.train_args, cpu_world_size(cfg))
                    members = [
                        Member(cmd, files.rank_log(rank) if rank else files.log, None if rank else progress.line)
                        for rank, cmd in enumerate(commands)
                    ]
                    run_group("fairseq-train", members, append=True, pass_fds=(lock,))
                model_checkpoint(save_dir / "checkpoint_last.pt", unit.final_path)
            if unit.role is None and not files.scores.exists():  # a stability child: its line is its score
                check_finite(self, unit, {})  # diverged weights fail here, not in the scorer
                progress.scoring()
                scored = scored_checkpoint(save_dir, self.evaluation.average_last, unit.final_path, files.scored)
                scores = TASKS[self.task].evaluate(self.data, scored, self.evaluation, unit.dir)
                write_json(files.scores, scores)
            metrics = {} if unit.role is not None else json.loads(files.scores.read_text())
            if not self.keep_checkpoints:
                shutil.rmtree(save_dir, ignore_errors=True)
        return metrics

    def _finished(self, checkpoint: Path, unit: sm.Unit) -> bool:
        """Whether ``checkpoint`` is at the unit's --max-update (the end of training that fairseq does not see
        on resume)."""
        last = max_update(unit.budget, self._setup()[0].optimization.max_update)
        return last > 0 and checkpoint_updates(checkpoint) >= last
