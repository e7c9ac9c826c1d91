"""One lottery as a graph of units, read from and written into its run folder.

Per seed: dense -> mask(1) -> chain(1) -> mask(2) -> chain(2) -> ... (iterative; the chain ticket is
``winning`` unless ``config.chain`` says otherwise), or dense -> mask(k) for every k (one-shot); the
other tickets of level k need only mask(k). Transferred tickets (``config.transfer_from``) need
nothing of this run but its initialization. Seeds are independent. The plan hands out the units
whose inputs exist (:meth:`LotteryPlan.ready`) and, as units finish (:meth:`LotteryPlan.complete`),
computes the masks they unlock. Everything it knows is
on disk (a unit is done when its metrics.json exists, a mask when its file does), so a plan built
over a half-finished folder resumes it.
"""

from __future__ import annotations

import shutil
from functools import cached_property
from pathlib import Path

from . import early_bird
from .config import LotteryConfig
from .config_file import read_run_config, run_id
from .files import atomic_write, write_json
from .identity import mask_identity
from .mask import Mask
from .pruning import PRUNING
from .pruning_context import PruningContext, trainer_hooks
from .run_folder import Key, RunFolder
from .scope import prunable
from .stability.plan import dense_captures
from .steps import parse_step
from .tickets import DENSE, TRANSFER_TICKETS, ticket_kind
from .trainer import Trainer, Unit
from .transfer import fit_mask, fit_weights, transfer_source


class LotteryPlan:
    """The units of ``config`` in the run folder ``out``, trained by ``trainer``."""

    def __init__(self, trainer: Trainer, config: LotteryConfig, out: Path):
        self.trainer, self.config, self.out = trainer, config, Path(out)
        self.run = RunFolder(out, trainer.suffix)
        self.run_id = run_id(read_run_config(self.run.config))  # what its mask files record
        self.rewind = parse_step(config.rewind)
        self.strategy = PRUNING[config.pruning]
        self.source = transfer_source(config.transfer_from, trainer.suffix) if config.transfer_from else None
        transferred = [(level, t) for level in self.source.levels for t in TRANSFER_TICKETS] if self.source else []
        # Every unit in the order one worker trains them: seed by seed, level by level (and its place in it).
        self.keys: list[Key] = [
            key
            for seed in config.seeds
            for key in [(seed, 0, DENSE)]
            + [(seed, level, t) for level in range(1, config.levels + 1) for t in config.tickets]
            + [(seed, *lt) for lt in transferred]
        ]
        self.position = {key: i for i, key in enumerate(self.keys)}
        self.done = {key for key in self.keys if self.run.unit(key).metrics.exists()}
        self.issued: set[Key] = set()
        self.masks: dict[tuple[int, int], Mask] = {}
        self.transfer_masks: dict[tuple[int, int], Mask] = {}
        self.own_masks: dict[tuple[int, int], Mask] = {}  # kinds with a mask of their own (early_bird)
        for seed in config.seeds:
            self._start_seed(seed)

    def ready(self) -> list[Unit]:
        """Units not done nor handed out whose mask exists, in :attr:`keys` order."""
        found = [
            key
            for key in self.keys
            if key not in self.done and key not in self.issued and key[:2] in self._masks_of(key[2])
        ]
        self.issued.update(found)
        return [self.unit(key) for key in found]

    def complete(self, key: Key) -> None:
        """Record that ``key`` finished, drop weights nothing reads (``keep_weights="needed"``) and
        compute the masks it unlocks."""
        self.issued.discard(key)
        self.done.add(key)
        if self.config.keep_weights == "needed" and key[2] not in (DENSE, self.config.chain):
            self.run.final(key).unlink(missing_ok=True)
            self.run.unit(key).scored.unlink(missing_ok=True)
        self._check_rewind(key[0])
        self._unlock_masks(key[0])
        self._settle_early_birds(key[0])

    def remaining_chain(self, key: Key) -> int:
        """Units left on the pruning chain if ``key`` is on it (dense or winning), else 1: a scheduler
        that starts the longest chains first keeps its workers busy."""
        seed, level, ticket = key
        if ticket in (DENSE, self.config.chain) and self.config.schedule == "iterative":
            return self.config.levels - level + 1
        return self.config.levels + 1 if ticket == DENSE else 1

    def unit(self, key: Key) -> Unit:
        """The unit of ``key``; it reads its mask from the level's file where it trains."""
        run, (seed, level, ticket) = self.run, key
        kind = ticket_kind(ticket)
        return Unit(
            seed,
            level,
            ticket,
            None,
            run.unit(key).dir,
            run.init(seed),
            run.transfer_rewind(seed) if kind.transferred else run.rewind(seed),
            run.final(key),
            kind.ticket_seed(seed, level),
            capture_rewind=self.rewind if ticket == DENSE and not self.rewind.is_zero else None,
            source_path=run.final(self._source(seed, level)) if level else None,
            mask_path=run.transfer_mask(seed, level) if kind.transferred else self._mask_path(kind, seed, level),
            budget=parse_step(self.config.finetune_budget) if kind.fine_tunes else None,
            mask_identity=mask_identity(self.run_id, seed, level),
            early_bird=self._draws(seed) if ticket == DENSE else None,
            captures=dense_captures(self, seed) if ticket == DENSE else (),
        )

    def _mask_path(self, kind, seed: int, level: int) -> Path:
        return getattr(self.run, kind.mask_of)(seed, level) if kind.mask_of else self.run.mask(seed, level)

    def _masks_of(self, ticket: str) -> dict[tuple[int, int], Mask]:
        kind = ticket_kind(ticket)
        return self.transfer_masks if kind.transferred else self.own_masks if kind.mask_of else self.masks

    def _draws(self, seed: int) -> early_bird.Draws | None:
        """What the dense unit draws as it trains, when the lottery has early-bird tickets."""
        if early_bird.EARLY_BIRD not in self.config.tickets:
            return None
        levels = range(1, self.config.levels + 1)
        return early_bird.Draws(
            parse_step(self.config.early_bird_every),
            self.config.pruning,
            self.run.mask(seed, 0),
            {level: self.config.density(level) for level in levels},
            {level: self.run.early_bird_draws(seed, level) for level in levels},
        )

    def _settle_early_birds(self, seed: int) -> None:
        """Once the dense unit is done: each level's early-bird mask, or its unit marked done untrained
        (never converged, reported by its record)."""
        if early_bird.EARLY_BIRD not in self.config.tickets or (seed, 0, DENSE) not in self.done:
            return
        for level in range(1, self.config.levels + 1):
            key = (seed, level, early_bird.EARLY_BIRD)
            if (seed, level) in self.own_masks or key in self.done:
                continue
            path = self.run.early_bird_record(seed, level)
            record = (
                early_bird.read_record(path) if path.exists() else early_bird.settle(self.run, seed, level, self.config)
            )
            if record["converged"]:
                self.own_masks[seed, level] = Mask.load(self.run.early_bird_mask(seed, level))
            else:
                early_bird.write_unconverged(self.run.unit(key).metrics, key, self.config.density(level))
                self.done.add(key)

    def _source(self, seed: int, level: int) -> Key:
        """The unit whose trained weights level ``level``'s mask is pruned from."""
        if self.config.schedule == "oneshot" or level == 1:
            return (seed, 0, DENSE)
        return (seed, level - 1, self.config.chain)

    def _start_seed(self, seed: int) -> None:
        """W_0 (and W_j = W_0 without late rewinding), the dense mask, and the masks already unlocked."""
        init_path, rewind_path = self.run.init(seed), self.run.rewind(seed)
        if not init_path.exists():
            self.trainer.save_weights(self.trainer.build_model(seed), init_path)
        if self.rewind.is_zero and not rewind_path.exists():
            atomic_write(rewind_path, lambda tmp: shutil.copyfile(init_path, tmp))
        self.masks[seed, 0] = self._level_mask(seed, 0, lambda: self._dense_mask(seed))
        self._check_rewind(seed)
        self._unlock_masks(seed)
        self._settle_early_birds(seed)
        if self.source is not None:
            self._start_transfer(seed)

    @cached_property
    def _source_rewind(self) -> dict:
        """The source run's rewind weights, read once per plan (and only when a seed needs fitting)."""
        return self.trainer.read_state(self.source.rewind_path)

    def _start_transfer(self, seed: int) -> None:
        """The source's rewind weights and masks fitted to this seed's model (once; then read back), and
        transfer.json naming the tensors not transferred (the same for every seed: it depends on shapes)."""
        trainer, path = self.trainer, self.run.transfer_rewind(seed)
        if not path.exists() or not self.run.transfer.exists():
            model = trainer.load_weights(self.run.init(seed), trainer.build_model(seed))
            own_init = fit_weights(model, self._source_rewind)
            trainer.save_weights(model, path)
            dense = fit_mask(self.source.mask(self.source.levels[0]), self.masks[seed, 0])[1]
            write_json(
                self.run.transfer,
                {
                    "source": self.source.given,
                    "levels": list(self.source.levels),
                    "own_initialization": own_init,
                    "dense": dense,
                },
            )
        for level in self.source.levels:
            self.transfer_masks[seed, level] = self._level_mask(
                seed,
                level,
                lambda: fit_mask(self.source.mask(level), self.masks[seed, 0])[0],
                self.run.transfer_mask,
            )

    def _check_rewind(self, seed: int) -> None:
        if (seed, 0, DENSE) in self.done and not self.run.rewind(seed).exists():
            raise ValueError(
                f"the dense run of seed {seed} ended before the rewind point {self.config.rewind}; "
                "train longer or rewind earlier, in a new --out folder (this one holds the finished dense unit)"
            )

    def _dense_mask(self, seed: int) -> Mask:
        config, model = self.config, self.trainer.build_model(seed)
        return Mask.dense(model, prunable(model, config.scope, config.include, config.exclude))

    def _unlock_masks(self, seed: int) -> None:
        """Load or compute every mask of ``seed`` whose inputs exist: the source unit's trained weights, or
        the starting weights of a pruning-at-initialization strategy."""
        for level in range(1, self.config.levels + 1):
            if (seed, level) in self.masks:
                continue
            if not self.run.mask(seed, level).exists() and not self._can_prune(seed, level):
                return
            self.masks[seed, level] = self._level_mask(seed, level, lambda: self._prune(seed, level))

    def _can_prune(self, seed: int, level: int) -> bool:
        if self.strategy.at_init:
            return self._start_weights(seed).exists()
        return self._source(seed, level) in self.done

    def _start_weights(self, seed: int) -> Path:
        """The weights a pruning-at-initialization strategy prunes (``config.prune_from``)."""
        return self.run.init(seed) if self.config.prune_from == "init" else self.run.rewind(seed)

    def _prune(self, seed: int, level: int) -> Mask:
        trainer, config, run = self.trainer, self.config, self.run
        context = PruningContext(
            seed,
            level,
            run.init(seed),
            run.rewind(seed),
            trainer.read_state,
            batches=config.pruning_batches,
            **trainer_hooks(trainer, seed),
        )
        if self.strategy.at_init:  # one-shot from the starting weights, whatever the schedule
            model = trainer.load_weights(self._start_weights(seed), trainer.build_model(seed))
            return self.strategy.prune_to_density(model, self.masks[seed, 0], config.density(level), context)
        model = trainer.load_weights(run.final(self._source(seed, level)), trainer.build_model(seed))
        if config.schedule == "oneshot":
            return self.strategy.prune_to_density(model, self.masks[seed, 0], config.density(level), context)
        return self.strategy.prune(model, self.masks[seed, level - 1], config.rate, context)

    def _level_mask(self, seed: int, level: int, compute, file=None) -> Mask:
        """The mask of ``level`` read from its file (``self.run.mask``, or ``file``), computed and saved first
        when the file does not exist yet."""
        path, identity = (file or self.run.mask)(seed, level), mask_identity(self.run_id, seed, level)
        if path.exists():
            return Mask.load(path, identity=identity)
        mask = compute()
        mask.save(path, identity)
        return mask
