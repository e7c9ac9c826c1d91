"""Where a lottery's units train: one after another in this process, or as Ray tasks on a cluster.

The driver (:func:`run_plans`) keeps the graphs (:class:`~shared_mask.plan.LotteryPlan`), computes
masks as their sources finish and rebuilds results.csv; it is the only writer of both. A unit
itself (:func:`train_unit`) trains and writes its own folder, metrics.json last, so a unit that
finished survives a driver that dies. With Ray, a unit whose worker process or node dies is retried
(Ray's task retries) and starts again, or resumes from its own checkpoint where its trainer keeps one.
"""

from __future__ import annotations

import math
import os
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from .files import write_json
from .finite import check_finite
from .plan import LotteryPlan
from .progress import progress_bar
from .ray_join import join_cluster
from .results import write_results
from .trainer import Unit
from .unit_failure import clear_failure, first_line, record_failure

RAY_RETRIES = 3  # a unit whose worker dies is started again up to this many times


@dataclass
class Workers:
    """How many units train at once, and where (every lottery command line has these options)."""

    workers: int = field(
        default=0,
        metadata={
            "help": "train up to N units at once on a local Ray cluster started for this command "
            "(0: one after another in this process)"
        },
    )
    ray_address: str | None = field(
        default=None,
        metadata={
            "help": "join this running Ray cluster (e.g. auto) instead; the run folder must be on a file "
            "system every node sees"
        },
    )
    ray_timeout: float = field(
        default=30.0, metadata={"help": "seconds to wait for the cluster at --ray-address to answer"}
    )
    cpus_per_unit: float = field(default=1.0, metadata={"help": "CPUs Ray reserves for each unit"})
    gpus_per_unit: float = field(
        default=0.0,
        metadata={
            "help": "GPUs Ray reserves for each unit (a fraction lets small units share a GPU; a multi-GPU "
            "fairseq unit asks for its --distributed-world-size)"
        },
    )

    def __post_init__(self):
        if self.workers < 0:
            raise ValueError(f"--workers must be 0 (in this process) or positive, got {self.workers}")
        if not (self.ray_timeout > 0 and math.isfinite(self.ray_timeout)):
            raise ValueError(f"--ray-timeout must be a positive number of seconds, got {self.ray_timeout}")
        if not (self.cpus_per_unit > 0 and math.isfinite(self.cpus_per_unit)):
            raise ValueError(f"--cpus-per-unit must be positive, got {self.cpus_per_unit}")
        if not (self.gpus_per_unit >= 0 and math.isfinite(self.gpus_per_unit)):
            raise ValueError(f"--gpus-per-unit must be 0 or positive, got {self.gpus_per_unit}")

    @property
    def uses_ray(self) -> bool:
        return self.workers > 0 or self.ray_address is not None


class UnitFailed(RuntimeError):
    """A unit's training raised: one line naming the unit, the cause and where its log is."""

    def __init__(self, unit, cause: str):
        where = f"its log: {unit.files.log}" if unit.files.log.exists() else f"its folder: {unit.dir}"
        super().__init__(f"unit seed {unit.seed} level {unit.level} {unit.ticket} failed: {cause} ({where})")
        self.unit = unit


def train_unit(trainer, unit) -> dict:
    """Train ``unit`` and write its metrics.json (last: its presence means "done"); return the record.
    A study's job that is not a training (the stability line) runs itself and writes its own record."""
    if not isinstance(unit, Unit):
        return unit.run(trainer)
    unit.dir.mkdir(parents=True, exist_ok=True)
    clear_failure(unit.files)
    start = time.time()
    try:
        metrics = trainer.train(unit)
    except Exception as error:  # ^C and exits pass as they are
        record_failure(unit.files, error)
        raise
    if not unit.final_path.exists():
        raise RuntimeError(f"the trainer did not write {unit.final_path}")
    check_finite(trainer, unit, metrics)
    density = unit.mask.density()
    record = {
        "seed": unit.seed,
        "level": unit.level,
        "ticket": unit.ticket,
        "density": density,
        "fraction_pruned": 1 - density,
        "metrics": {k: float(v) for k, v in metrics.items()},
        "seconds": round(time.time() - start, 3),
    }
    write_json(unit.files.metrics, record)
    return record


class InProcess:
    """Trains each unit in this process when the driver asks for the next result."""

    capacity = 1

    def __init__(self):
        self._queued = []

    def submit(self, job: int, trainer, unit) -> None:
        self._queued.append((job, trainer, unit))

    def wait(self):
        job, trainer, unit = self._queued.pop(0)
        try:
            return job, unit, train_unit(trainer, unit)
        except Exception as error:  # ^C and exits pass as they are
            raise UnitFailed(unit, f"{type(error).__name__}: {first_line(error)}") from error

    def close(self) -> None:
        pass


class RayCluster:
    """Runs units as Ray tasks: on a local cluster of ``workers`` units, or on the cluster at ``ray_address``."""

    def __init__(self, workers: Workers, run_dirs: list[Path]):
        if workers.ray_address is None:
            loopback_only()
        try:
            import ray
        except ImportError:
            raise ValueError("--workers and --ray-address need Ray: pip install 'lth-nlp-rl[ray]'") from None
        self.ray, self.workers = ray, workers
        self.capacity = workers.workers or None
        self._owns = not ray.is_initialized()
        if self._owns:
            if workers.ray_address is not None:
                join_cluster(
                    ray, workers.ray_address, workers.ray_timeout, runtime_env=worker_env(), log_to_driver=False
                )
            else:
                ray.init(num_cpus=max(1, math.ceil(workers.workers * workers.cpus_per_unit)), **local_ray_options())
        gpus = ray.cluster_resources().get("GPU", 0)
        if workers.gpus_per_unit > gpus:
            self.close()
            raise ValueError(f"--gpus-per-unit {workers.gpus_per_unit}: the Ray cluster has {gpus:g} GPUs")
        _check_shared_storage(ray, run_dirs)
        self._task = ray.remote(max_retries=RAY_RETRIES)(train_unit)
        self._trainers: dict[int, object] = {}
        self._running: dict = {}

    def submit(self, job: int, trainer, unit) -> None:
        if job not in self._trainers:
            self._trainers[job] = self.ray.put(trainer)
        ref = self._task.options(
            num_cpus=self.workers.cpus_per_unit,
            num_gpus=self.workers.gpus_per_unit,
            name=f"seed {unit.seed} level {unit.level} {unit.ticket}",
        ).remote(self._trainers[job], unit)
        self._running[ref] = (job, unit)

    def wait(self):
        ready, _ = self.ray.wait(list(self._running), num_returns=1)
        job, unit = self._running.pop(ready[0])
        try:
            return job, unit, self.ray.get(ready[0])
        except self.ray.exceptions.RayTaskError as error:
            cause = error.cause if isinstance(error.cause, BaseException) else error
            raise UnitFailed(unit, f"{type(cause).__name__}: {first_line(cause)}") from error
        except self.ray.exceptions.RayError as error:
            cause = f"{type(error).__name__} after {RAY_RETRIES} retries: {first_line(error)}"
            raise UnitFailed(unit, cause) from error

    def close(self) -> None:
        if self._owns and self.ray.is_initialized():
            self.ray.shutdown()


def worker_env() -> dict:
    """Ray's runtime_env for unit workers: they import the trainers' modules (and user extensions)
    from where the driver does."""
    return {"env_vars": {"PYTHONPATH": os.pathsep.join(p for p in sys.path if p and Path(p).is_dir())}}


# Ray (2.60) binds its servers to the node's address, found from the network; with its clusters switched
# off (its setting for laptops, read when ray is imported) the node's address is 127.0.0.1, and every server
# listens there only. A user who sets the variable keeps their choice; a multi-node cluster is one they
# start themselves (`ray start`) and join with --ray-address.
LOOPBACK_SWITCH = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"


def loopback_only() -> None:
    """Make a local cluster started by this process listen on 127.0.0.1 only (see LOOPBACK_SWITCH)."""
    os.environ.setdefault(LOOPBACK_SWITCH, "0")
    constants = sys.modules.get("ray._private.ray_constants")
    if constants is not None:  # ray was imported before the variable was set: the value it read
        constants.ENABLE_RAY_CLUSTER = os.environ[LOOPBACK_SWITCH].lower() in ("1", "true")


def local_ray_options() -> dict:
    """``ray.init`` options of a local cluster started for units (quiet: each unit logs to its folder)."""
    return {"runtime_env": worker_env(), "include_dashboard": False, "log_to_driver": False}


def _check_shared_storage(ray, run_dirs: list[Path]) -> None:
    """Every alive node must see every run folder: a token written here is looked for on each node."""
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    tokens = []
    for run_dir in run_dirs:
        token = run_dir / f".visible-{uuid.uuid4().hex}"
        token.write_text("")
        tokens.append(str(token.resolve()))
    look = ray.remote(num_cpus=0)(lambda paths: [p for p in paths if not os.path.exists(p)])
    try:
        nodes = [n for n in ray.nodes() if n["Alive"]]
        missing = ray.get(
            [
                look.options(scheduling_strategy=NodeAffinitySchedulingStrategy(n["NodeID"], soft=False)).remote(tokens)
                for n in nodes
            ]
        )
    finally:
        for token in tokens:
            Path(token).unlink(missing_ok=True)
    for node, paths in zip(nodes, missing):
        if paths:
            folder = Path(paths[0]).parent
            raise ValueError(
                f"the run folder {folder} is not visible from Ray node {node['NodeManagerAddress']}: "
                "put it on a file system every node mounts (NFS, a shared volume)"
            )


def run_plans(plans: list[LotteryPlan], executor, progress: bool = True) -> None:
    """Train every unit of ``plans`` on ``executor``, longest pruning chains first when units run at
    once (one after another, seed by seed, when they do not); rebuild each results.csv as units finish."""

    def priority(job: int, unit) -> tuple:
        order = (job, plans[job].position[unit.key])
        return order if executor.capacity == 1 else (-plans[job].remaining_chain(unit.key), *order)

    total = sum(len(plan.keys) for plan in plans)
    queue, running, failure = [], 0, None
    with progress_bar(
        progress, total=total, initial=sum(len(p.done) for p in plans), desc="lottery", unit="unit"
    ) as bar:
        while True:
            if failure is None:
                queue += [(priority(job, unit), job, unit) for job, plan in enumerate(plans) for unit in plan.ready()]
                queue.sort(key=lambda item: item[0])
                while queue and (executor.capacity is None or running < executor.capacity):
                    _, job, unit = queue.pop(0)
                    executor.submit(job, plans[job].trainer, unit)
                    running += 1
            if running == 0:
                break
            bar.set_postfix_str(f"running {running}, queued {len(queue)}")
            try:
                job, unit, record = executor.wait()
            except UnitFailed as error:  # let the running units finish and keep their results
                running -= 1
                failure = failure or error
                continue
            running -= 1
            plans[job].complete(unit.key)
            write_results(plans[job].out)
            summary = ", ".join(f"{k} {v:.4g}" for k, v in record["metrics"].items())
            prefix = f"{plans[job].out.name}: " if len(plans) > 1 else ""
            bar.write(
                f"{prefix}seed {unit.seed} level {unit.level:2d} {unit.key[2]:<13} "
                f"density {record['density']:.4f}  {summary}"
            )
            bar.update(1)
    if failure is not None:
        raise failure
