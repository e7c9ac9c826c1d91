"""The stability analysis as units of the lottery graph, beside the lottery's own plan.

Per seed and point k: W_k (W_0 when k = 0, the rewind weights when k is the rewind point, else a
*replay* unit: the dense run trained again from W_0 to k with its own noise, which gives the dense
run's weights at k bit for bit); per studied level L and point k: two *children* that train W_k under
level L's mask from k to the end with the two noise seeds, then the *line* unit that evaluates the
networks between them. A child needs W_k and the level's mask; the line needs both children.
Everything is read back from the run folder, so a rerun resumes (and may add points or levels).
"""

from __future__ import annotations

import json
from pathlib import Path

from ..files import write_json
from ..run_folder import Key
from ..steps import parse_step
from ..tickets import DENSE, WINNING, ticket_kind
from ..trainer import Unit
from .line_unit import LineUnit, read_line
from .table import write_table

REPLAY, CHILD, LINE = "replay", "child", "line"


def claim_evaluation(run, trainer, write: bool = True) -> None:
    """Record the trainer's evaluation settings (stability.json) once (``write``: False only checks); refuse
    a rerun that changes them, since its lines would not compare with the ones already evaluated."""
    wanted = json.loads(json.dumps(trainer.evaluation_config()))
    if run.stability_settings.exists():
        recorded = json.loads(run.stability_settings.read_text(encoding="utf-8"))
        if recorded != wanted:
            raise ValueError(
                f"{run.root} evaluated its stability lines with {recorded}, not {wanted}: use another output folder"
            )
    elif write:
        write_json(run.stability_settings, wanted)


def dense_captures(lottery, seed: int) -> tuple:
    """The (point, W_k file) pairs the dense unit of ``seed`` writes as it trains, for a trainer that does
    not replay points (none otherwise, and none for k = 0 or the rewind point)."""
    if lottery.trainer.replays_points:
        return ()
    points = [parse_step(point) for point in lottery.config.stability_points]
    return tuple(
        (step, lottery.run.stability_start(seed, str(step)))
        for step in points
        if not step.is_zero and step != lottery.rewind
    )


def child_noise_seed(seed: int, noise: int) -> int:
    """The seed of a child's noise: distinct from the dense run's (``seed``) and across ``noise`` values."""
    return 1_000_003 * (seed + 1) + 104_729 * (noise + 1)


class StabilityPlan:
    """The stability units of ``lottery`` (a :class:`~shared_mask.plan.LotteryPlan`), handed out by the same
    driver loop (``ready``, ``complete``, ``keys``, ``position``, ``done``)."""

    def __init__(self, lottery):
        self.lottery, self.trainer, self.out, self.run = lottery, lottery.trainer, lottery.out, lottery.run
        config = lottery.config
        self.roles: dict[Key, tuple] = {}
        for seed in config.seeds:
            for point in config.stability_points:
                if self._needs_replay(point):
                    self.roles[seed, 0, f"stability/replay_{point}"] = (REPLAY, point)
                for level in config.stability_levels:
                    for child in (0, 1):
                        self.roles[seed, level, f"stability/k_{point}/child_{child + 1}"] = (CHILD, point, child)
                    self.roles[seed, level, f"stability/k_{point}/line"] = (LINE, point)
        self.keys = list(self.roles)
        self._check_captured()
        self.position = {key: i for i, key in enumerate(self.keys)}
        self.done = {key for key in self.keys if self._is_done(key)}
        self.issued: set[Key] = set()

    def ready(self) -> list:
        found = [key for key in self.keys if key not in self.done and key not in self.issued and self._inputs(key)]
        self.issued.update(found)
        return [self.unit(key) for key in found]

    def complete(self, key: Key) -> None:
        self.issued.discard(key)
        self.done.add(key)
        if self.roles[key][0] == LINE:
            write_table(self.run)

    def remaining_chain(self, key: Key) -> int:
        return {REPLAY: 3, CHILD: 2, LINE: 1}[self.roles[key][0]]

    def unit(self, key: Key):
        seed, level, name = key
        role, point = self.roles[key][:2]
        run, step = self.run, parse_step(point)
        if role == LINE:
            children = [run.final((seed, level, f"stability/k_{point}/child_{c}")) for c in (1, 2)]
            return LineUnit(
                seed,
                level,
                point,
                name,
                run.unit(key).dir,
                tuple(children),
                run.mask(seed, level),
                self.lottery.config.stability_grid,
                run.stability_line(seed, level, point),
            )
        ticket = DENSE if level == 0 else WINNING
        common = dict(
            mask=None,
            dir=run.unit(key).dir,
            init_path=run.init(seed),
            rewind_path=run.rewind(seed),
            ticket_seed=ticket_kind(ticket).ticket_seed(seed, level),
            mask_path=run.mask(seed, level),
            role=name,
        )
        if role == REPLAY:
            return Unit(seed, 0, DENSE, final_path=run.stability_start(seed, point), end_step=step, **common)
        noise = child_noise_seed(seed, self.lottery.config.stability_noise[self.roles[key][2]])
        return Unit(
            seed,
            level,
            ticket,
            final_path=run.final(key),
            start_path=self._start(seed, point),
            start_step=step,
            noise_seed=noise,
            **common,
        )

    def _needs_replay(self, point: str) -> bool:
        step = parse_step(point)
        return self.trainer.replays_points and not step.is_zero and step != self.lottery.rewind

    def _check_captured(self) -> None:
        """Without replays, a point asked for after the dense unit trained has no W_k: say so."""
        for seed in self.lottery.config.seeds:
            if (seed, 0, DENSE) not in self.lottery.done:
                continue
            missing = [str(step) for step, path in dense_captures(self.lottery, seed) if not path.exists()]
            if missing:
                raise ValueError(
                    f"stability points {' '.join(missing)}: the dense run of seed {seed} trained before they were "
                    f"asked for and {type(self.trainer).__name__} captures W_k only there; use another run folder"
                )

    def _start(self, seed: int, point: str) -> Path:
        """W_k of ``seed``: W_0, the rewind weights, or the replay's result."""
        if parse_step(point).is_zero:
            return self.run.init(seed)
        if parse_step(point) == self.lottery.rewind:
            return self.run.rewind(seed)
        return self.run.stability_start(seed, point)

    def _is_done(self, key: Key) -> bool:
        if self.roles[key][0] == LINE:
            record = read_line(self.run.stability_line(key[0], key[1], self.roles[key][1]))
            return bool(record and record["complete"])
        return self.run.unit(key).metrics.exists()

    def _inputs(self, key: Key) -> bool:
        seed, level, _ = key
        role, point = self.roles[key][:2]
        if role == REPLAY:
            return True
        if role == LINE:
            return all((seed, level, f"stability/k_{point}/child_{c}") in self.done for c in (1, 2))
        replay = (seed, 0, f"stability/replay_{point}")
        start_ready = replay in self.done if replay in self.roles else self._start(seed, point).exists()
        return start_ready and (seed, level) in self.lottery.masks
