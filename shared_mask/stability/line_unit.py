"""The evaluation of one line as a unit of the lottery graph: it runs where units run (in process or on
a Ray worker) and writes each point as it is evaluated, so a killed run resumes at the next point."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from ..files import write_json
from ..mask import Mask
from ..run_folder import Key
from .line import grid, instability, interpolate


@dataclass(frozen=True)
class LineUnit:
    """The networks w(a) between the trained children ``finals`` of (seed, level, point), under the mask at
    ``mask_path``, evaluated by the trainer; the points go to ``record`` (line.json)."""

    seed: int
    level: int
    point: str  # the point k, as a step string
    name: str  # the key's third entry: stability/k_<point>/line
    dir: Path
    finals: tuple[Path, Path]
    mask_path: Path
    points: int  # the grid
    record: Path

    @property
    def ticket(self) -> str:
        return self.name

    @property
    def key(self) -> Key:
        return self.seed, self.level, self.name

    def run(self, trainer) -> dict:
        """Evaluate the points not yet in the record, then mark it complete; return the driver's record."""
        start = time.time()
        metric, higher_is_better = trainer.line_metric
        mask = Mask.load(self.mask_path)
        alphas = grid(self.points)
        done = read_line(self.record) or {"values": {}}
        first, second = (trainer.read_state(path) for path in self.finals)
        for a in alphas:
            if str(a) in done["values"]:
                continue
            model = trainer.load_state(interpolate(first, second, a), trainer.build_model(self.seed))
            mask.apply_(model)  # both children hold the mask's zeros already: this changes nothing
            done["values"][str(a)] = float(trainer.evaluate(model, self.seed))
            self._write(done, metric, higher_is_better, complete=False)
        values = [done["values"][str(a)] for a in alphas]
        losses = [-v for v in values] if higher_is_better else values
        record = self._write(done, metric, higher_is_better, complete=True, barrier=instability(losses))
        density = mask.density()
        return {
            "density": density,
            "metrics": {"instability": record["instability"]},
            "seconds": round(time.time() - start, 3),
        }

    def _write(self, done: dict, metric: str, higher_is_better: bool, complete: bool, barrier=None) -> dict:
        record = {
            "seed": self.seed,
            "level": self.level,
            "k": self.point,
            "metric": metric,
            "higher_is_better": higher_is_better,
            "values": done["values"],
            "complete": complete,
            "instability": barrier,
        }
        write_json(self.record, record)
        return record


def read_line(path: Path) -> dict | None:
    """A line's record (None when absent); ValueError naming the file when it is damaged."""
    if not path.exists():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        record["values"] = {str(float(a)): float(v) for a, v in record["values"].items()}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValueError) as error:
        raise ValueError(f"{path}: unreadable stability line ({error})") from error
    return record
