"""Loading and validating one run folder (the layout is in docs/design.md, "The run folder").

Where the results come from, explicitly:
- `results.csv` is the source of truth for every unit it holds (a later row for the same
  seed, level, ticket and metric replaces an earlier one: a redone unit appended again);
- a finished unit (its `metrics.json` exists) that `results.csv` lacks, because the run was
  interrupted before the table was rewritten or the table is absent, is read from its
  `metrics.json`; such units are listed in `Run.recovered_units` so the report can say so;
- a damaged `results.csv` (cut mid-row) is ignored with a warning when metrics.json files exist.
"""
import csv
import json
import warnings
from dataclasses import dataclass
from pathlib import Path

from ..lottery import RESULT_COLUMNS
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
class Result:
    seed: int
    level: int
    density: float
    fraction_pruned: float
    ticket: str
    metric: str
    value: float

    @property
    def unit(self):
        return (self.seed, self.level, self.ticket)


@dataclass(frozen=True)
class Run:
    path: Path
    name: str
    config: dict
    results: tuple       # of Result, every metric
    recovered_units: tuple  # (seed, level, ticket) read from metrics.json, absent from results.csv
    transfer: dict | None = None  # transfer.json: the source and which tensors were not transferred

    @property
    def experiment(self):
        return str(self.config["trainer"]["experiment"])

    @property
    def metric(self):
        return str(self.config["trainer"]["metric"])

    @property
    def higher_is_better(self):
        configured = self.config["trainer"].get("higher_is_better")
        if configured is not None:
            return bool(configured)
        return HIGHER_IS_BETTER.get(self.metric, True)

    @property
    def tickets(self):
        """The pruned-level tickets the config asks for, in config order, then the transferred ones."""
        return [str(t) for t in self.config["lottery"]["tickets"]] + (TRANSFER_TICKETS if self.transfer else [])

    def metric_results(self):
        """Results of the run's own metric (the one its figures and tables are about)."""
        return [r for r in self.results if r.metric == self.metric]

    def expected_units(self):
        lottery = self.config["lottery"]
        units = []
        for seed in lottery["seeds"]:
            units.append((int(seed), 0, DENSE))
            for level in range(1, int(lottery["levels"]) + 1):
                units.extend((int(seed), level, str(ticket)) for ticket in lottery["tickets"])
            for level in (self.transfer or {}).get("levels", []):
                units.extend((int(seed), int(level), ticket) for ticket in TRANSFER_TICKETS)
        return units

    def missing_units(self):
        """Units the config asks for that have no result for the run's metric yet."""
        done = {r.unit for r in self.metric_results()}
        return [unit for unit in self.expected_units() if unit not in done]


def load_run(path):
    """Read and validate the run folder at `path`; raise RunError naming what is wrong."""
    path = Path(path)
    if not path.is_dir():
        raise RunError(f"{path}: not a directory")
    config_path = path / "config.json"
    if not config_path.is_file():
        raise RunError(f"{path}: not a run folder (no config.json)")
    config = _read_config(config_path)
    csv_path = path / "results.csv"
    unit_files = sorted(path.glob("seed_*/level_*/*/metrics.json"))
    if not csv_path.is_file() and not unit_files:
        raise RunError(f"{path}: no results yet (no results.csv and no seed_*/level_*/<ticket>/metrics.json)")

    by_key = {}
    for result in _read_csv_or_warn(csv_path, unit_files) if csv_path.is_file() else []:
        by_key[(result.unit, result.metric)] = result
    in_csv = {unit for unit, _ in by_key}
    recovered = []
    for unit_file in unit_files:
        unit_results = _read_unit_metrics(unit_file)
        if unit_results and unit_results[0].unit not in in_csv:
            recovered.append(unit_results[0].unit)
            by_key.update(((r.unit, r.metric), r) for r in unit_results)
    results = sorted(by_key.values(), key=lambda r: (r.level, r.ticket, r.seed, r.metric))
    transfer = _read_json(path / "transfer.json") if (path / "transfer.json").is_file() else None
    return Run(path, path.resolve().name, config, tuple(results), tuple(recovered), transfer)


def _read_json(path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise RunError(f"{path}: unreadable JSON ({err})") from None


def _read_config(path):
    config = _read_json(path)
    for section, key in REQUIRED_CONFIG_KEYS:
        if not isinstance(config, dict) or not isinstance(config.get(section), dict) or key not in config[section]:
            raise RunError(f"{path}: config lacks {section}.{key}")
    return config


def _read_csv_or_warn(path, unit_files):
    """results.csv's rows; a damaged file (a run killed while writing it) is left out with a warning
    when the finished units' metrics.json files can stand in for it."""
    try:
        return _read_results_csv(path)
    except RunError as err:
        if not unit_files:
            raise
        warnings.warn(f"{err}; reading every finished unit from its metrics.json instead", stacklevel=3)
        return []


def _read_results_csv(path):
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in RESULT_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise RunError(f"{path}: malformed results.csv: missing columns {', '.join(missing)}")
        results = []
        for row in reader:
            try:
                results.append(Result(
                    seed=int(row["seed"]), level=int(row["level"]), density=float(row["density"]),
                    fraction_pruned=float(row["fraction_pruned"]), ticket=row["ticket"],
                    metric=row["metric"], value=float(row["value"])))
            except (TypeError, ValueError) as err:
                raise RunError(f"{path}, line {reader.line_num}: malformed row ({err})") from None
        return results


def _read_unit_metrics(path):
    """One Result per numeric metric of a finished unit's metrics.json."""
    unit = _read_json(path)
    try:
        density = float(unit["density"])
        return [
            Result(seed=int(unit["seed"]), level=int(unit["level"]), density=density,
                   fraction_pruned=1.0 - density, ticket=str(unit["ticket"]), metric=name, value=float(value))
            for name, value in unit["metrics"].items()
            if isinstance(value, (int, float)) and not isinstance(value, bool)
        ]
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise RunError(f"{path}: malformed metrics.json ({err!r})") from None
