"""Synthetic run folders with values and masks simple enough to check the report by hand.

Metric values (seeds 0, 1, 2: mean = the `101 - ...` part, sample std = the seed factor):
  dense           100 + seed                      -> 101 +- 1
  winning         101 - 0.4 level + (seed - 1)     -> 101 - 0.4 level +- 1
  random_reinit   101 - 3 level + 2 (seed - 1)     -> 101 - 3 level +- 2
  random_mask     101 - 2 level + 3 (seed - 1)     -> 101 - 2 level +- 3
Masks: `embed.weight` (5 x 10) keeps its first 50 - 10 level entries, `fc.weight` (75) its first
75 - 5 level entries, so consecutive levels differ in 15 of 125 positions.
"""

import csv
import json

import pytest
import torch

import shared_mask as sm

COLUMNS = ["seed", "level", "density", "fraction_pruned", "ticket", "metric", "value"]
OFFSETS = {"winning": (0.4, 1.0), "random_reinit": (3.0, 2.0), "random_mask": (2.0, 3.0)}


def synthetic_value(seed, level, ticket):
    if ticket == "dense":
        return 100.0 + seed
    slope, spread = OFFSETS[ticket]
    return 101.0 - slope * level + spread * (seed - 1)


def synthetic_mask(level):
    embed = torch.arange(50).reshape(5, 10) < 50 - 10 * level
    fc = torch.arange(75) < 75 - 5 * level
    return sm.Mask({"embed.weight": embed, "fc.weight": fc})


def _write_run(
    root,
    name="cartpole",
    *,
    experiment="CartPole-v0",
    metric="ticket_reward",
    levels=5,
    seeds=(0, 1, 2),
    tickets=("winning", "random_reinit"),
    lottery=None,
    trainer=None,
    value=synthetic_value,
    skip=(),
    results_csv=True,
    masks=True,
):
    """Write a finished (or, with `skip`, partial) run folder; return its path."""
    path = root / name
    path.mkdir(parents=True)
    config = {
        "lottery": {
            "levels": levels,
            "rate": 0.2,
            "seeds": list(seeds),
            "tickets": list(tickets),
            "schedule": "iterative",
            "scope": "all",
            "include": None,
            "exclude": None,
            "rewind": "1ep",
            **(lottery or {}),
        },
        "trainer": {"experiment": experiment, "metric": metric, **(trainer or {})},
    }
    (path / "config.json").write_text(json.dumps(config))
    rows = []
    for seed in seeds:
        for level in range(levels + 1):
            level_dir = path / f"seed_{seed}" / f"level_{level:02d}"
            level_dir.mkdir(parents=True)
            if masks:
                synthetic_mask(level).save(level_dir / "mask.safetensors")
            for ticket in ["dense"] if level == 0 else tickets:
                if (seed, level, ticket) in skip:
                    continue
                density = 0.8**level
                metrics = {metric: value(seed, level, ticket), "episodes": 100.0}
                (level_dir / ticket).mkdir()
                (level_dir / ticket / "metrics.json").write_text(
                    json.dumps(
                        {
                            "seed": seed,
                            "level": level,
                            "ticket": ticket,
                            "density": density,
                            "fraction_pruned": 1 - density,
                            "metrics": metrics,
                        }
                    )
                )
                rows += [[seed, level, density, 1 - density, ticket, m, v] for m, v in metrics.items()]
    if results_csv:
        with open(path / "results.csv", "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(COLUMNS)
            writer.writerows(rows)
    return path


@pytest.fixture
def write_run(tmp_path):
    """write_run(name=..., **options) -> path of a synthetic run folder under tmp_path/runs."""
    return lambda name="cartpole", **options: _write_run(tmp_path / "runs", name, **options)


@pytest.fixture
def read_csv():
    """read_csv(path) -> the rows of a CSV file as dicts."""

    def read(path):
        with open(path, newline="") as handle:
            return list(csv.DictReader(handle))

    return read
