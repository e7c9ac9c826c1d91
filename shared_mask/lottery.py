"""The lottery loop: iterative (or one-shot) pruning with rewinding, over seeds, levels and tickets.

A domain supplies a :class:`Trainer`; the loop owns the run folder (see docs/design.md)::

    RUN/config.json
    RUN/seed_<s>/init<suffix>, rewind<suffix>
    RUN/seed_<s>/level_<kk>/mask.safetensors
    RUN/seed_<s>/level_<kk>/<ticket>/final<suffix>, metrics.json, tb/
    RUN/results.csv

A unit (seed, level, ticket) is done when its metrics.json exists; rerunning skips done units and
redoes interrupted ones. Masks are deterministic functions of the trained weights, so a resumed
run ends with the same masks as an uninterrupted one.
"""
from __future__ import annotations

import csv
import io
import json
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field
from pathlib import Path

from torch import nn

from . import tensor_file
from .files import write_json, write_text
from .mask import Mask
from .plan import LotteryPlan
from .pruning import PRUNING
from .selection import SCOPES
from .steps import Step, parse_step
from .tickets import TICKETS, WINNING, Start, ticket_kind
from .transfer import transfer_source
from .workers import InProcess, RayCluster, Workers, run_plans

SCHEDULES = ("iterative", "oneshot")
RESULT_COLUMNS = ("seed", "level", "density", "fraction_pruned", "ticket", "metric", "value")
KEEP_WEIGHTS = ("all", "needed")
# Fields that a rerun may extend (more seeds, levels or tickets) without starting a new run, and
# fields that change nothing in the results, so a rerun may set them otherwise.
_EXTENSIBLE = ("seeds", "levels", "tickets")
_FREE = ("keep_weights",)


@dataclass
class LotteryConfig:
    """How tickets are found: ``levels`` pruning rounds of ``rate``, rewinding to ``rewind``."""

    levels: int = field(default=20, metadata={"help": "pruning levels after the dense level 0"})
    rate: float = field(default=0.2, metadata={"help": "fraction of the surviving weights pruned at each level"})
    seeds: list[int] = field(default_factory=lambda: [0, 1, 2], metadata={"help": "one pruning chain per seed"})
    tickets: list[str] = field(default_factory=lambda: ["winning", "random_reinit"], metadata={
        "help": "ticket kinds trained at every pruned level", "choices": TICKETS})
    schedule: str = field(default="iterative", metadata={
        "help": "iterative: prune the previous level's --chain ticket; oneshot: prune the dense network "
                "straight to each level's density", "choices": SCHEDULES})
    chain: str = field(default=WINNING, metadata={
        "help": "the ticket kind whose trained weights the iterative schedule prunes for the next level: "
                "winning (weight rewinding, the paper's) or lr_rewind (learning-rate rewinding)", "choices": TICKETS})
    rewind: str = field(default="0", metadata={
        "help": "late-rewinding point of the dense run that tickets restart from: 0 (the initialization), "
                "<N>it / <N>batches / <N>updates, or <N>ep"})
    scope: str = field(default="all", metadata={
        "help": "prunable parameters: all (biases, norms and embeddings included), weights (tensors of 2+ "
                "dimensions), no_embeddings (embedding tables and output projections stay dense)",
        "choices": SCOPES})
    include: list[str] | None = field(default=None, metadata={
        "help": "regexes: prune only the parameters whose names match one of them (within the scope)"})
    exclude: list[str] | None = field(default=None, metadata={
        "help": "regexes: leave the parameters whose names match one of them dense"})
    pruning: str = field(default="global_magnitude", metadata={
        "help": "how a level's mask is chosen from trained weights", "choices": PRUNING})
    keep_weights: str = field(default="all", metadata={
        "help": "all: every unit keeps its trained weights (final.*); needed: only what later levels and "
                "ticket export read (the dense and --chain units'), other tickets' weights are deleted once "
                "scored, which halves the disk of a two-ticket lottery", "choices": KEEP_WEIGHTS})
    transfer_from: str | None = field(default=None, metadata={
        "help": "another run's RUN/seed_<s>/level_<kk> (one ticket) or RUN/seed_<s> (its whole chain): its "
                "masks and rewind weights are also trained on this run's experiment (transfer, with "
                "transfer_random_reinit and transfer_random_mask controls); tensors whose shapes differ start "
                "from this run's initialization, dense"})

    def __post_init__(self):
        if not isinstance(self.levels, int) or self.levels < 0:
            raise ValueError(f"levels must be a non-negative integer, got {self.levels!r}")
        if not isinstance(self.rate, (int, float)) or not 0 < self.rate < 1:
            raise ValueError(f"pruning rate must be in (0, 1), got {self.rate!r}")
        self.seeds = [int(s) for s in self.seeds]
        if not self.seeds or len(set(self.seeds)) != len(self.seeds):
            raise ValueError(f"seeds must be a non-empty list without repeats, got {self.seeds!r}")
        self.tickets = list(self.tickets)
        unknown = [t for t in self.tickets if t not in TICKETS]
        if unknown or not self.tickets or len(set(self.tickets)) != len(self.tickets):
            raise ValueError(f"tickets must be distinct names from {', '.join(TICKETS)}; got {self.tickets!r}")
        transferred = [t for t in self.tickets if TICKETS[t].transferred]
        if transferred:
            raise ValueError(f"{', '.join(transferred)}: transferred tickets are trained by --transfer-from, "
                             "not listed in tickets")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"unknown schedule {self.schedule!r}; choose one of {', '.join(SCHEDULES)}")
        chain = TICKETS[self.chain]
        if chain.control or chain.transferred:
            raise ValueError(f"the chain follows a candidate ticket (winning, lr_rewind, ...), not {self.chain}")
        if self.schedule == "iterative" and self.chain not in self.tickets:
            raise ValueError(f"the iterative schedule prunes the {self.chain} ticket of each level: "
                             f"include '{self.chain}' in tickets")
        self.rewind = str(parse_step(self.rewind))
        if self.scope not in SCOPES:
            raise ValueError(f"unknown pruning scope {self.scope!r}; choose one of {', '.join(SCOPES)}")
        PRUNING[self.pruning]  # an unknown strategy is a ValueError naming the known ones
        if self.keep_weights not in KEEP_WEIGHTS:
            raise ValueError(f"keep_weights must be one of {', '.join(KEEP_WEIGHTS)}, got {self.keep_weights!r}")

    def density(self, level: int) -> float:
        """Target density of ``level``: (1 - rate) ** level."""
        return (1 - self.rate) ** level


@dataclass(frozen=True)
class Unit:
    """One training job of the loop: a ticket of one level of one seed."""

    seed: int
    level: int
    ticket: str  # "dense" at level 0, else a name registered in TICKETS
    mask: Mask  # the mask to train under (the kind's derive_mask of the level's mask)
    dir: Path  # the unit's folder: final weights, metrics.json, tb/
    init_path: Path  # W_0 of this seed
    rewind_path: Path  # W_j of this seed: read by tickets, written by the dense unit (see capture_rewind);
    # for a transferred ticket, the source run's W_j fitted to this model
    final_path: Path  # where the trainer writes the trained weights
    ticket_seed: int  # seed of the random ticket's weights or positions
    capture_rewind: Step | None = None  # dense unit with late rewinding: write W_j to rewind_path at this step
    source_path: Path | None = None  # the trained weights the level's mask was pruned from (Start.FINAL)

    @property
    def key(self) -> tuple[int, int, str]:
        return self.seed, self.level, self.ticket

    @property
    def tb_dir(self) -> Path:
        return self.dir / "tb"


class Trainer(ABC):
    """What a domain provides to the lottery loop.

    ``train(unit)`` trains ``unit``'s ticket under ``unit.mask`` (enforced through training), writes
    ``unit.final_path`` (and, if ``unit.capture_rewind`` is set, ``unit.rewind_path`` when training
    reaches that step) and returns its metrics. :func:`start_model` builds a ticket's starting model
    for trainers that hold weights in memory.
    """

    suffix = ".safetensors"

    @abstractmethod
    def config(self) -> dict:
        """JSON-able settings saved in config.json; include "experiment" (game or dataset) and "metric"."""

    @abstractmethod
    def build_model(self, seed: int) -> nn.Module:
        """A freshly initialized model, deterministic in ``seed``."""

    @abstractmethod
    def train(self, unit: Unit) -> dict[str, float]:
        """Train ``unit``'s ticket and return its metrics (name -> value)."""

    def save_weights(self, model: nn.Module, path: Path) -> None:
        """The model's state as a byte-deterministic safetensors file with a checksum (tied tensors once)."""
        state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict(keep_vars=False).items()}
        unique, seen = {}, set()
        for name, tensor in state.items():  # tied tensors are stored once
            if tensor.data_ptr() not in seen or tensor.numel() == 0:
                unique[name] = tensor
                seen.add(tensor.data_ptr())
        tensor_file.save(unique, path)

    def read_state(self, path: Path) -> dict:
        """The tensors of a weights file by name (for transfer between models of other shapes)."""
        return tensor_file.load(path)[0]

    def load_weights(self, path: Path, model: nn.Module) -> nn.Module:
        state = self.read_state(path)  # a truncated or corrupt file is a ValueError naming it
        try:
            missing, unexpected = model.load_state_dict(state, strict=False)
        except RuntimeError as error:  # shapes of another model
            last_line = str(error).strip().splitlines()[-1].strip()
            raise ValueError(f"{path} does not fit the model: {last_line}") from None
        tied = {n for n in missing if n not in state and _is_tied_alias(model, n)}
        if set(missing) - tied or unexpected:
            raise ValueError(f"{path} does not fit the model: missing {sorted(set(missing) - tied)}, "
                             f"unexpected {unexpected}")
        return model


def _is_tied_alias(model: nn.Module, name: str) -> bool:
    all_params = dict(model.named_parameters(remove_duplicate=False))
    return name in all_params and name not in dict(model.named_parameters())


def start_model(trainer: Trainer, unit: Unit) -> nn.Module:
    """The ticket's starting model (as its kind says: W_0, the rewind weights W_j, a fresh
    initialization from ``unit.ticket_seed``, or the trained weights the mask was pruned from) with
    ``unit.mask`` applied."""
    start = ticket_kind(unit.ticket).start
    if start is Start.REINIT:
        model = trainer.build_model(unit.ticket_seed)
    else:
        path = {Start.INIT: unit.init_path, Start.REWIND: unit.rewind_path, Start.FINAL: unit.source_path}[start]
        model = trainer.load_weights(path, trainer.build_model(unit.seed))
    unit.mask.apply_(model)
    return model


def run_lottery(trainer: Trainer, config: LotteryConfig, out: str | Path, progress: bool = True,
                workers: Workers | None = None) -> Path:
    """Run (or resume) every unit of ``config`` into the run folder ``out``; return results.csv.

    ``workers`` (default: one unit after another in this process) can train units at once on Ray.
    """
    return run_lotteries([(trainer, config, out)], progress, workers)[0]


def run_lotteries(lotteries: list[tuple[Trainer, LotteryConfig, str | Path]], progress: bool = True,
                  workers: Workers | None = None) -> list[Path]:
    """Run (or resume) several lotteries (a sweep) over the same workers, their units interleaved;
    return their results.csv files. Every folder is checked before any unit trains."""
    workers = workers or Workers()
    outs = [Path(out) for _, _, out in lotteries]
    if len(set(map(Path.resolve, outs))) != len(outs):
        raise ValueError("two lotteries of the sweep share a run folder")
    for trainer, config, _ in lotteries:
        if config.transfer_from:
            transfer_source(config.transfer_from, trainer.suffix)  # a wrong path fails before any folder is written
    for (trainer, config, _), out in zip(lotteries, outs):
        _claim_run_folder(out, config, trainer.config())
    plans = [LotteryPlan(trainer, config, out) for (trainer, config, _), out in zip(lotteries, outs)]
    executor = RayCluster(workers, outs) if workers.uses_ray else InProcess()
    try:
        run_plans(plans, executor, progress)
    finally:
        executor.close()
    return [write_results(out) for out in outs]


def write_results(out: str | Path) -> Path:
    """Rebuild results.csv from every finished unit's metrics.json (so it is never stale)."""
    out = Path(out)
    rows = []
    for path in out.glob("seed_*/level_*/*/metrics.json"):
        unit = json.loads(path.read_text())
        for metric, value in unit["metrics"].items():
            rows.append((unit["seed"], unit["level"], unit["density"], unit["fraction_pruned"],
                         unit["ticket"], metric, value))
    rows.sort(key=lambda r: (r[0], r[1], r[4], r[5]))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(RESULT_COLUMNS)
    writer.writerows(rows)
    write_text(out / "results.csv", buffer.getvalue())
    return out / "results.csv"


def _claim_run_folder(out: Path, config: LotteryConfig, trainer_config: dict) -> None:
    """Write config.json, or check that the folder's existing run has the same configuration."""
    wanted = json.loads(json.dumps({"lottery": asdict(config), "trainer": trainer_config}))
    path = out / "config.json"
    if out.exists() and not out.is_dir():
        raise ValueError(f"{out} is a file, not a run folder")
    if path.exists():
        try:
            existing = json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise ValueError(f"{path} is corrupt: {e}") from None
        if not (isinstance(existing, dict) and all(isinstance(existing.get(k), dict) for k in ("lottery", "trainer"))):
            raise ValueError(f"{path} is not a run configuration (no lottery and trainer sections)")
        differences = _differences(existing, wanted)
        if differences:
            raise ValueError(f"{out} holds a run with a different configuration ({'; '.join(differences)}); "
                             "use another output folder")
        lottery = existing["lottery"]
        for key in ("seeds", "tickets"):
            wanted["lottery"][key] = lottery[key] + [x for x in wanted["lottery"][key] if x not in lottery[key]]
        wanted["lottery"]["levels"] = max(lottery["levels"], wanted["lottery"]["levels"])
    elif out.exists() and any(out.iterdir()):
        raise ValueError(f"{out} is not empty and holds no config.json: not a run folder")
    try:
        write_json(path, wanted)
    except OSError as e:
        raise ValueError(f"cannot write the run folder {out}: {e.strerror or e}") from None
    for leftover in out.rglob(".*.tmp*"):  # half-written files of a killed run (see files.atomic_write)
        leftover.unlink(missing_ok=True)


def _may_change(key: str, old: dict) -> bool:
    """Lottery fields a rerun may set otherwise: more seeds, levels or tickets, what is kept on disk,
    and a transfer added to a run that had none."""
    return key in _EXTENSIBLE + _FREE or (key == "transfer_from" and old.get(key) is None)


def _differences(existing: dict, wanted: dict) -> list[str]:
    found = []
    # A lottery field added after a folder was written holds its default there.
    added_since = {"lottery": asdict(LotteryConfig()), "trainer": {}}
    for section in ("lottery", "trainer"):
        old, new = existing.get(section, {}), wanted[section]
        for key in sorted(set(old) | set(new)):
            if section == "lottery" and _may_change(key, old):
                continue
            before = old.get(key, added_since[section].get(key))
            if before != new.get(key):
                found.append(f"{section}.{key}: {before!r} in the folder, {new.get(key)!r} now")
    return found
