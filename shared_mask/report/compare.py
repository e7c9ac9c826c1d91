"""Which runs may share an ablation overlay, and their legend labels from differing config fields."""

import json

from ..config import EXTENSIBLE, FREE, SET_ONCE
from .runs import RunError


def check_comparable(runs):
    """An overlay needs at least two runs, all of one metric (one y axis)."""
    if len(runs) < 2:
        raise RunError("--compare needs at least two runs")
    metrics = {run.metric for run in runs}
    if len(metrics) > 1:
        listed = ", ".join(f"{run.name}: {run.metric}" for run in runs)
        raise RunError(f"--compare mixes metrics in one figure ({listed}); compare runs of one metric")


def _flatten(config, prefix=""):
    """{"lottery.rewind": "1ep", ...}; lists and scalars are leaves."""
    flat = {}
    for key, value in config.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def differing_fields(configs):
    """Dotted config keys whose value is not the same in every config (absent counts as different)."""
    flats = [_flatten(config) for config in configs]
    keys = list(dict.fromkeys(key for flat in flats for key in flat))
    return [key for key in keys if len({json.dumps(flat.get(key), sort_keys=True) for flat in flats}) > 1]


# Fields that say how much of a lottery was run, not how its masks were found (its extent, and the
# settings of tickets added on: a transfer source, a fine-tuning budget): left out of labels when a
# setting differs too (two chains whose ticket lists differ are told apart by their chains).
EXTENT = {f"lottery.{key}" for key in (*EXTENSIBLE, *FREE, *SET_ONCE)}
MAX_LABEL = 40


def compare_labels(runs):
    """Short labels from the settings that differ ('rewind=0', 'chain=lr_rewind'), leaving out the
    lottery's extent (seeds, levels, tickets) unless nothing else differs; the run name when nothing
    differs or the label would be longer than MAX_LABEL characters."""
    fields = differing_fields([run.config for run in runs])
    fields = [key for key in fields if key not in EXTENT] or fields
    if not fields:
        return [run.name for run in runs]
    labels = []
    for run in runs:
        flat = _flatten(run.config)
        label = ", ".join(f"{key.rsplit('.', 1)[-1]}={_show(flat.get(key))}" for key in fields)
        labels.append(label if len(label) <= MAX_LABEL else run.name)
    return labels


def _show(value):
    if isinstance(value, list):
        return "+".join(map(str, value))
    return "-" if value is None else value if isinstance(value, str) else json.dumps(value)
