"""The lottery runner: iterative (or one-shot) pruning with rewinding, over seeds, levels and tickets.

A domain supplies a :class:`~shared_mask.trainer.Trainer`; :func:`run_lottery` claims the run folder
(docs/design.md, "The run folder"), builds the lottery's graph of units over it and trains them where
``workers`` says. A unit (seed, level, ticket) is done when its metrics.json exists; rerunning skips
done units and redoes interrupted ones. Masks are deterministic functions of the trained weights, so a
resumed run ends with the same masks as an uninterrupted one.
"""

from __future__ import annotations

from pathlib import Path

from .config import LotteryConfig
from .early_bird import EARLY_BIRD
from .plan import LotteryPlan
from .results import write_results
from .run_config import claim_run_folder
from .run_folder import RunFolder
from .stability import StabilityPlan, claim_evaluation
from .trainer import Trainer
from .transfer import transfer_source
from .workers import InProcess, RayCluster, Workers, run_plans


def run_lottery(
    trainer: Trainer, config: LotteryConfig, out: str | Path, progress: bool = True, workers: Workers | None = None
) -> Path:
    """Run (or resume) every unit of ``config`` into the run folder ``out``; return results.csv.

    ``workers`` (default: one unit after another in this process) can train units at once on Ray.
    """
    return run_lotteries([(trainer, config, out)], progress, workers)[0]


def run_lotteries(
    lotteries: list[tuple[Trainer, LotteryConfig, str | Path]], progress: bool = True, workers: Workers | None = None
) -> list[Path]:
    """Run (or resume) several lotteries (a sweep) over the same workers, their units interleaved;
    return their results.csv files. Every folder is checked before any unit trains."""
    workers = workers or Workers()
    outs = [Path(out) for _, _, out in lotteries]
    if len(set(map(Path.resolve, outs))) != len(outs):
        raise ValueError("two lotteries of the sweep share a run folder")
    for trainer, config, _ in lotteries:
        if config.transfer_from:
            transfer_source(config.transfer_from, trainer.suffix)  # a wrong path fails before any folder is written
        check_studies(trainer, config)
    runs = [RunFolder(out, trainer.suffix) for (trainer, _, _), out in zip(lotteries, outs)]
    for (trainer, config, _), run in zip(lotteries, runs):
        if config.stability_points:
            claim_evaluation(run, trainer, write=False)  # a changed evaluation fails before anything is written
    for (trainer, config, _), run in zip(lotteries, runs):
        claim_run_folder(run, config, trainer.config())
        if config.stability_points:
            claim_evaluation(run, trainer)
    plans = [LotteryPlan(trainer, config, out) for (trainer, config, _), out in zip(lotteries, outs)]
    plans += [StabilityPlan(plan) for plan in plans if plan.config.stability_points]
    executor = RayCluster(workers, outs) if workers.uses_ray else InProcess()
    try:
        run_plans(plans, executor, progress)
    finally:
        executor.close()
    return [write_results(out) for out in outs]


def check_studies(trainer: Trainer, config: LotteryConfig) -> None:
    """Refuse a study that ``trainer`` does not implement, before any folder is written."""
    asked = {"stability": bool(config.stability_points), "early_bird": EARLY_BIRD in config.tickets}
    missing = [study for study, wanted in asked.items() if wanted and study not in trainer.studies]
    if missing:
        raise ValueError(f"{type(trainer).__name__} does not implement {' and '.join(missing)} yet")
