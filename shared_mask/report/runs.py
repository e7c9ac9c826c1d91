"""Loading and validating one run folder (the layout is in docs/design.md, "The run folder").

The results come from one source: every finished unit's metrics.json (:func:`shared_mask.read_results`);
results.csv is the table of them that the loop rewrites, never read back here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..config_file import read_run_config
from ..early_bird import EARLY_BIRD, is_unconverged
from ..results import Result, read_results
from ..run_folder import Key, RunFolder
from ..tickets import DENSE, TRANSFER_TICKETS

# Direction of the known metrics. An unknown metric counts as higher-is-better unless the
# config says otherwise with `trainer.higher_is_better`.
HIGHER_IS_BETTER = {"ticket_reward": True, "bleu": True, "test_log_ppl": False, "valid_loss": False}

REQUIRED_CONFIG_KEYS = (
    ("trainer", "experiment"),
    ("trainer", "metric"),
    ("lottery", "levels"),
    ("lottery", "seeds"),
    ("lottery", "tickets"),
)


class RunError(ValueError):
    """A folder the report cannot read; the message names the folder and the problem."""


@dataclass(frozen=True)
class Run:
    path: Path
    name: str
    config: dict
    results: tuple[Result, ...]  # every metric of every finished unit
    transfer: dict | None = None  # transfer.json: the source and which tensors were not transferred

    @property
    def folder(self) -> RunFolder:
        return RunFolder(self.path)

    @property
    def experiment(self) -> str:
        return str(self.config["trainer"]["experiment"])

    @property
    def metric(self) -> str:
        return str(self.config["trainer"]["metric"])

    @property
    def higher_is_better(self) -> bool:
        configured = self.config["trainer"].get("higher_is_better")
        if configured is not None:
            return bool(configured)
        return HIGHER_IS_BETTER.get(self.metric, True)

    @property
    def tickets(self) -> list[str]:
        """The pruned-level tickets the config asks for, in config order, then the transferred ones."""
        return [str(t) for t in self.config["lottery"]["tickets"]] + (TRANSFER_TICKETS if self.transfer else [])

    def metric_results(self) -> list[Result]:
        """Results of the run's own metric (the one its figures and tables are about)."""
        return [r for r in self.results if r.metric == self.metric]

    def expected_units(self) -> list[Key]:
        lottery = self.config["lottery"]
        units = []
        for seed in lottery["seeds"]:
            units.append((int(seed), 0, DENSE))
            for level in range(1, int(lottery["levels"]) + 1):
                units.extend((int(seed), level, str(ticket)) for ticket in lottery["tickets"])
            for level in (self.transfer or {}).get("levels", []):
                units.extend((int(seed), int(level), ticket) for ticket in TRANSFER_TICKETS)
        return units

    def missing_units(self) -> list[Key]:
        """Units the config asks for that have no result for the run's metric yet; an early-bird ticket that
        never emerged is done without one (its metrics.json says so), not missing."""
        done = {r.unit for r in self.metric_results()}
        return [unit for unit in self.expected_units() if unit not in done and not self._never_emerged(unit)]

    def _never_emerged(self, unit: Key) -> bool:
        metrics = self.folder.unit(unit).metrics
        return unit[2] == EARLY_BIRD and metrics.is_file() and is_unconverged(_read_json(metrics))


def load_run(path: str | Path, name: str | None = None, require_results: bool = True) -> Run:
    """Read and validate the run folder at ``path`` (called ``name``, by default its folder's name);
    raise RunError naming what is wrong (also when it has no finished unit, if ``require_results``)."""
    folder = RunFolder(path)
    if not folder.root.is_dir():
        raise RunError(f"{folder.root}: not a directory")
    if not folder.config.is_file():
        raise RunError(f"{folder.root}: not a run folder (no config.json)")
    config = _read_config(folder.config)
    try:
        results = read_results(folder.root)
    except ValueError as err:
        raise RunError(str(err)) from err
    if not results and require_results:
        raise RunError(f"{folder.root}: no results yet (no finished unit: seed_*/level_*/<ticket>/metrics.json)")
    results.sort(key=lambda r: (r.level, r.ticket, r.seed, r.metric))
    transfer = _read_json(folder.transfer) if folder.transfer.is_file() else None
    return Run(folder.root, name or folder.name, config, tuple(results), transfer)


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise RunError(f"{path}: unreadable JSON ({err})") from err


def _read_config(path: Path) -> dict:
    try:
        config = read_run_config(path)  # types, ranges and the digest: a hand edit is refused
    except ValueError as err:
        raise RunError(str(err)) from err
    for section, key in REQUIRED_CONFIG_KEYS:
        if not isinstance(config, dict) or not isinstance(config.get(section), dict) or key not in config[section]:
            raise RunError(f"{path}: config lacks {section}.{key}")
    return config
