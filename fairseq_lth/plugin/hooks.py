"""Lottery-ticket options and hooks shared by the plugin's fairseq tasks.

A task mixes :class:`LotteryOptions` into its config and calls a :class:`LotteryHooks` from
``build_model``, ``begin_epoch``, ``train_step``, ``optimizer_step`` and ``reduce_metrics``:

- dense run (no ``--lth-mask``): with ``--lth-rewind-checkpoint``, fairseq's checkpoint at the
  rewind point is copied there (see :mod:`fairseq_lth.plugin.rewind`);
- ticket run (``--lth-mask``): started from the rewind checkpoint with ``--continue-once``, the
  ticket kind (``shared_mask.TICKETS``) derives its mask from the level's (``random_mask`` draws
  random positions with the mask's per-tensor counts), kinds that start from a fresh initialization
  (``random_reinit``) re-initialize the weights, the mask is applied before the first update and
  every pruned entry stays exactly zero (see :mod:`fairseq_lth.plugin.masking`). A resumed run (from the
  save dir's ``checkpoint_last.pt``) keeps its weights and mask.
"""

import importlib
import logging
import os
from dataclasses import dataclass, field
from typing import Callable, Optional

import torch
from fairseq.dataclass import ChoiceEnum, FairseqDataclass
from fairseq.distributed import utils as distributed_utils
from fairseq.logging import metrics
from omegaconf import II
from torch import nn

import shared_mask as sm

from . import rewind
from .early_bird import EarlyBirdDrawer
from .masking import MaskEnforcer
from .meters import start_meters
from .verify import MaskVerifier

logger = logging.getLogger(__name__)


def rewind_updates_field(default: Optional[sm.Step] = None):
    """The --lth-rewind-updates option, its help naming a task's ``default`` rewind point."""
    said = "the task's" if default is None else rewind.describe(default)
    return field(
        default=None, metadata={"help": f"late-rewinding point, in updates (0: the initial weights); default: {said}"}
    )


# fairseq makes options of Optional[X] fields, and fails on `X | None` (a types.UnionType): see ruff.toml.
@dataclass
class LotteryOptions(FairseqDataclass):
    lth_mask: Optional[str] = field(
        default=None,
        metadata={"help": "mask file (shared_mask format) of the ticket to train; without it the run is dense"},
    )
    lth_ticket: str = field(
        default=sm.WINNING,
        metadata={
            "help": "ticket kind (shared_mask.TICKETS): winning: rewound weights under the mask; "
            "random_reinit: fresh initialization (seed --lth-ticket-seed) under the mask; "
            "random_mask: rewound weights under random positions with the mask's per-tensor "
            "counts (seed --lth-ticket-seed); or a kind registered by --lth-extensions"
        },
    )
    lth_ticket_seed: int = field(default=0, metadata={"help": "seed of a random ticket"})
    lth_extensions: Optional[str] = field(
        default=None,
        metadata={
            "help": "comma-separated Python modules to import first: they register their own ticket "
            "kinds or pruning strategies with shared_mask"
        },
    )
    lth_scope: ChoiceEnum(sm.SCOPES) = field(
        default="all",
        metadata={
            "help": "pruning scope the mask must cover exactly: all (every parameter, embeddings "
            "included), no_embeddings (embedding tables and output projection left dense), "
            "weights (no biases or norms)"
        },
    )
    lth_rewind_updates: Optional[int] = rewind_updates_field()
    lth_rewind_epochs: Optional[int] = field(
        default=None, metadata={"help": "rewind to the end of this epoch instead of after a number of updates"}
    )
    lth_rewind_checkpoint: Optional[str] = field(
        default=None,
        metadata={
            "help": "dense run: copy fairseq's full checkpoint at the rewind point to this path "
            "(ticket runs start from it with --continue-once)"
        },
    )
    lth_verify_masks: bool = field(
        default=False,
        metadata={
            "help": "check after every update that the pruned entries are zero in the weights, the "
            "optimizer state and the fp32 master copy of every rank, and record the mask's and the "
            "weights' digests in SAVE_DIR/lth_verify.rank<R>.json (slow: for tests and new hardware)"
        },
    )
    lth_fixed_lr: Optional[float] = field(
        default=None,
        metadata={"help": "train at this learning rate at every update, whatever the scheduler says (fine-tuning)"},
    )
    # Read from the checkpoint options (not command-line options of the task).
    save_dir: str = II("checkpoint.save_dir")
    restore_file: str = II("checkpoint.restore_file")
    continue_once: Optional[str] = II("checkpoint.continue_once")
    lth_early_bird: Optional[str] = field(
        default=None,
        metadata={
            "help": "dense run: the JSON file (written by fairseq-lth-imp) of the early-bird masks to draw every "
            "N updates and where"
        },
    )
    lth_captures: Optional[str] = field(
        default=None,
        metadata={
            "help": "dense run: more checkpoints to capture like the rewind one, STEP=PATH,STEP=PATH (STEP: <N>it "
            "or <N>ep; the stability analysis's W_k)"
        },
    )
    save_interval: int = II("checkpoint.save_interval")
    save_interval_updates: int = II("checkpoint.save_interval_updates")
    no_save: bool = II("checkpoint.no_save")
    no_last_checkpoints: bool = II("checkpoint.no_last_checkpoints")


class LotteryHooks:
    """The lottery logic of one training process; see the module docstring."""

    def __init__(self, cfg: LotteryOptions, default_rewind: sm.Step):
        self.cfg = cfg
        for module in filter(None, (cfg.lth_extensions or "").split(",")):
            importlib.import_module(module)
        self.kind = sm.ticket_kind(cfg.lth_ticket)  # an unknown kind names the registered ones
        self.rewind = rewind.from_options(cfg.lth_rewind_updates, cfg.lth_rewind_epochs, default_rewind)
        self.model: Optional[nn.Module] = None
        self.mask: Optional[sm.Mask] = None
        self.density = 1.0
        self.enforcer: Optional[MaskEnforcer] = None
        self._fresh_model: Optional[Callable[[], nn.Module]] = None
        self._starts_at_rewind = False
        self._epoch = 0  # 0 until the first epoch begins
        self._capture_due = False
        self._captures: list = []  # (point, path) still to capture
        self._verifier: Optional[MaskVerifier] = None
        self._early_bird = EarlyBirdDrawer(cfg.lth_early_bird) if cfg.lth_early_bird else None

    @property
    def is_ticket(self) -> bool:
        return self.cfg.lth_mask is not None

    @property
    def point(self) -> str:
        """The rewind point in words (``update 1000``, ``end of epoch 1``)."""
        return rewind.describe(self.rewind)

    def attach(self, model: nn.Module, fresh_model: Callable[[], nn.Module]) -> None:
        """Check the options against the freshly built ``model`` before any training.

        ``fresh_model()`` builds a newly initialized model (from the global RNG): the random_reinit
        ticket's weights.
        """
        cfg = self.cfg
        self.model, self._fresh_model = model, fresh_model
        if not self.is_ticket:
            if cfg.lth_ticket != sm.WINNING:
                raise ValueError(f"--lth-ticket {cfg.lth_ticket} needs the level's mask: pass --lth-mask")
            if cfg.lth_rewind_checkpoint is not None:
                if self.rewind.is_zero:
                    raise ValueError(
                        "--lth-rewind-checkpoint with a rewind point of 0: the rewind checkpoint "
                        "is the initial one, there is nothing to capture"
                    )
                rewind.check_saved(
                    self.rewind, cfg.save_interval_updates, cfg.save_interval, cfg.no_save, cfg.no_last_checkpoints
                )
                self._capture_due = not os.path.exists(cfg.lth_rewind_checkpoint)
            self._captures = rewind.pending_captures(cfg)
            return
        self.mask = self._load_mask(model)
        self.density = self.mask.density()  # logged every update: counted once
        self._starts_at_rewind = self._check_start()
        logger.info(
            f"lottery ticket {cfg.lth_ticket}: density {self.density:.4f} over "
            f"{len(self.mask)} tensors (scope {cfg.lth_scope}); "
            + ("starting at the rewind point" if self._starts_at_rewind else "resuming")
        )

    def _load_mask(self, model: nn.Module) -> sm.Mask:
        cfg = self.cfg
        mask = sm.Mask.load(cfg.lth_mask, model)  # clear errors: missing file, other model, shapes
        # The driver's --include/--exclude may leave parameters of the scope out (they stay dense).
        extra = sorted(set(mask.names()) - set(sm.prunable(model, str(cfg.lth_scope))))
        if extra:
            raise ValueError(
                f"{cfg.lth_mask} covers parameters outside the pruning scope {cfg.lth_scope!r}: "
                f"{extra[:5]} (mask made with another --lth-scope?)"
            )
        return self.kind.derive_mask(mask, cfg.lth_ticket_seed)

    def _check_start(self) -> bool:
        """Whether this launch starts at the rewind checkpoint (True) or resumes the ticket's own run.

        This mirrors fairseq's choice: checkpoint_last.pt in the save dir wins unless --restore-file
        names another file; on a first launch --continue-once names the start.
        """
        cfg = self.cfg
        if cfg.restore_file != "checkpoint_last.pt":
            start = cfg.restore_file
        elif os.path.exists(os.path.join(cfg.save_dir, "checkpoint_last.pt")):
            return False
        else:
            start = cfg.continue_once
        if start is None:
            raise ValueError(
                "a ticket run starts from the dense run's rewind checkpoint: pass --continue-once REWIND.pt"
            )
        if not os.path.isfile(start):
            raise FileNotFoundError(f"rewind checkpoint not found: {start}")
        return True

    def begin_epoch(self, epoch: int) -> None:
        if not self._epoch:
            start_meters(fresh=self._starts_at_rewind)
        self._epoch = epoch

    def before_train_step(self, optimizer, update_num: int) -> None:
        """Called before each forward/backward: capture the rewind point, or bind the mask."""
        if self._capture_due and rewind.reached(self.rewind, update_num, self._epoch):
            if distributed_utils.get_global_rank() == 0:
                rewind.capture(self.rewind, self.cfg.save_dir, self.cfg.lth_rewind_checkpoint)
            self._capture_due = False
        if self.cfg.lth_fixed_lr is not None:
            optimizer.set_lr(self.cfg.lth_fixed_lr)
            metrics.log_scalar("lth_lr", optimizer.get_lr(), round=8)
        for point, path in [c for c in self._captures if rewind.reached(c[0], update_num, self._epoch)]:
            if distributed_utils.get_global_rank() == 0:
                rewind.capture(point, self.cfg.save_dir, path)
            self._captures.remove((point, path))
        if self.is_ticket and (self.enforcer is None or self.enforcer.optimizer is not optimizer):
            reinit = self.enforcer is None and self._starts_at_rewind and self.kind.start is sm.Start.REINIT
            if reinit:
                sm.reinit_(self.model, self.cfg.lth_ticket_seed, init_fn=self._load_fresh_weights)
            if self.enforcer is None:
                self.enforcer = MaskEnforcer(self.model, self.mask)
            self.enforcer.bind(optimizer, refresh_master=reinit)

    @torch.no_grad()
    def _load_fresh_weights(self, model: nn.Module) -> None:
        fresh = self._fresh_model().state_dict()
        for name, tensor in model.state_dict().items():
            tensor.copy_(fresh[name])

    def after_backward(self) -> None:
        if self.enforcer is not None:
            self.enforcer.mask_grads_()

    def after_optimizer_step(self, update_num: int) -> None:
        """After the optimizer step that makes update ``update_num + 1``."""
        if self.enforcer is not None:
            self.enforcer.after_step_()
        if self._early_bird is not None and distributed_utils.get_global_rank() == 0:
            self._early_bird.after_update(self.model, update_num + 1)
        if self.cfg.lth_verify_masks:
            if self._verifier is None:
                self._verifier = MaskVerifier(self.cfg.save_dir, self.model, self.mask)
            self._verifier.after_update(self.enforcer, update_num + 1)

    def log_metrics(self) -> None:
        if self.mask is not None:
            metrics.log_scalar("lth_density", self.density, round=4)
