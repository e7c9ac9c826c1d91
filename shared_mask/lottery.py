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
from .driver_lock import driver_locks
from .early_bird import EARLY_BIRD
from .estimate import estimate_line
from .plan import LotteryPlan
from .provenance import end_invocation, start_invocation
from .pruning import PRUNING
from .pruning_context import missing_hooks
from .results import write_results
from .run_config import claim_run_folder
from .run_folder import RunFolder
from .run_summary import write_run_summary
from .stability import StabilityPlan, claim_evaluation
from .trainer import Trainer
from .transfer import transfer_source
from .unit_failure import first_line
from .workers import InProcess, RayCluster, UnitFailed, Workers, run_plans


def run_lottery(
    trainer: Trainer, config: LotteryConfig, out: str | Path, progress: bool = True, workers: Workers | None = None
) -> Path:
    """Run (or resume) every unit of ``config`` into the run folder ``out``; return results.csv.

    ``workers`` (default: one unit after another in this process) can train units at once on Ray.
    Prints the estimate of each lottery's time first; records each invocation in run.json and writes
    summary.md at its end (finished, failed or stopped).
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
    for trainer, config, _ in lotteries:  # before any folder is written
        missing = missing_hooks(PRUNING[config.pruning], trainer)
        if missing:
            raise ValueError(
                f"--pruning {config.pruning} needs the trainer's {missing[0]} hook, which this trainer lacks"
            )
        if config.transfer_from:  # a wrong or damaged source
            transfer_source(config.transfer_from, trainer.suffix).check(trainer)
        check_studies(trainer, config)
    runs = [RunFolder(out, trainer.suffix) for (trainer, _, _), out in zip(lotteries, outs)]
    for (trainer, config, _), run in zip(lotteries, runs):
        if config.stability_points:
            claim_evaluation(run, trainer, write=False)  # a changed evaluation fails before anything is written
    with driver_locks(runs):
        for (trainer, config, _), run in zip(lotteries, runs):
            claim_run_folder(run, config, trainer.config())
            if config.stability_points:
                claim_evaluation(run, trainer)
        plans = [LotteryPlan(trainer, config, out) for (trainer, config, _), out in zip(lotteries, outs)]
        plans += [StabilityPlan(plan) for plan in plans if plan.config.stability_points]
        _run_recorded(plans, workers, progress)
        return [write_results(out) for out in outs]


def check_studies(trainer: Trainer, config: LotteryConfig) -> None:
    """Refuse a study that ``trainer`` does not implement, before any folder is written."""
    asked = {"stability": bool(config.stability_points), "early_bird": EARLY_BIRD in config.tickets}
    missing = [study for study, wanted in asked.items() if wanted and study not in trainer.studies]
    if missing:
        raise ValueError(f"{type(trainer).__name__} does not implement {' and '.join(missing)} yet")


def _run_recorded(plans: list[LotteryPlan], workers: Workers, progress: bool) -> None:
    """Print each lottery's estimate, train the plans, and record the invocation in each run.json and
    summary.md, however it ends (finished, failed or stopped)."""
    lotteries = [plan for plan in plans if isinstance(plan, LotteryPlan)]
    runs = list(dict.fromkeys(plan.run for plan in plans))
    invocations = [start_invocation(run, workers) for run in runs]
    for plan in lotteries:
        print(estimate_line(plan, workers.workers if workers.uses_ray else 1), flush=True)
    outcome = "stopped"
    try:
        executor = RayCluster(workers, [run.root for run in runs]) if workers.uses_ray else InProcess()
        try:
            run_plans(plans, executor, progress)
        finally:
            executor.close()
        outcome = "finished"
    except BaseException as error:
        outcome = (
            f"{'failed' if isinstance(error, UnitFailed) else 'stopped'}: {type(error).__name__}: {first_line(error)}"
        )
        raise
    finally:
        for run, index in zip(runs, invocations):
            end_invocation(run, index, outcome)
            write_run_summary(run)
