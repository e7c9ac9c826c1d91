"""Claiming a run folder for a configuration: config.json is written once (with a digest of its contents),
and a rerun is checked against it. A rerun may add seeds, levels or tickets and change what changes no
result; the guard protects finished results, not failed attempts: a change that no finished unit depends
on is accepted, and the files of the earlier attempt that depend on it are removed (and named)."""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import asdict

from .config import EXTENSIBLE, FREE, SET_ONCE, LotteryConfig
from .config_file import read_run_config, with_digest
from .files import write_json
from .run_folder import RunFolder
from .tickets import TRANSFER_TICKETS

TRANSFER_FROM = "lottery.transfer_from"


def claim_run_folder(run: RunFolder, config: LotteryConfig, trainer_config: dict) -> None:
    """Write config.json, or check that the folder's existing run has the same configuration."""
    wanted = json.loads(json.dumps({"lottery": asdict(config), "trainer": trainer_config}))
    out, path = run.root, run.config
    if out.exists() and not out.is_dir():
        raise ValueError(f"{out} is a file, not a run folder")
    if path.exists():
        existing = read_run_config(path)
        differences = _differences(existing, wanted)
        if differences and not _discard_attempt(run, differences):
            raise ValueError(
                f"{out} holds finished results of a different configuration "
                f"({'; '.join(differences.values())}); use another output folder"
            )
        if not differences or set(differences) == {TRANSFER_FROM}:
            lottery = {**asdict(LotteryConfig()), **existing["lottery"]}  # a field added since reads as its default
            for key in ("seeds", "tickets", "stability_points", "stability_levels"):
                wanted["lottery"][key] = lottery[key] + [x for x in wanted["lottery"][key] if x not in lottery[key]]
            wanted["lottery"]["levels"] = max(lottery["levels"], wanted["lottery"]["levels"])
    elif out.exists() and any(p != run.driver_lock for p in out.iterdir()):
        raise ValueError(f"{out} is not empty and holds no config.json: not a run folder")
    try:
        write_json(path, with_digest(wanted))
    except OSError as e:
        raise ValueError(f"cannot write the run folder {out}: {e.strerror or e}") from e
    for leftover in run.leftovers():
        leftover.unlink(missing_ok=True)


def _discard_attempt(run: RunFolder, differences: dict[str, str]) -> bool:
    """Remove the files of an earlier attempt that depend on the changed settings, when no finished unit
    does (only a transfer's units when only the transfer source changed); False when some do."""
    finished = [path.parent.name for path in run.metrics_files()]
    if set(differences) == {TRANSFER_FROM}:
        if any(ticket in TRANSFER_TICKETS for ticket in finished):
            return False
        doomed = [run.transfer, *run.root.glob("seed_*/transfer_rewind.*"), *run.root.glob("seed_*/level_*/transfer*")]
    elif finished:
        return False
    else:
        doomed = [run.results, run.transfer, *run.root.glob("seed_*")]
    doomed = [path for path in doomed if path.exists()]
    print(
        f"{run.root}: no finished unit depends on the changed settings ({'; '.join(differences.values())}); "
        f"removing {len(doomed)} files and folders of the earlier attempt",
        file=sys.stderr,
    )
    for path in doomed:
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    return True


def _may_change(key: str, old: dict) -> bool:
    """Lottery fields a rerun may set otherwise: more seeds, levels or tickets, what is kept on disk,
    and a transfer or a fine-tuning budget (for a finetune ticket added) given to a run that had none."""
    return key in EXTENSIBLE + FREE or (key in SET_ONCE and old.get(key) is None)


def _differences(existing: dict, wanted: dict) -> dict[str, str]:
    """{section.key: what differs} of the fields a rerun may not change."""
    found = {}
    # A lottery field added after a folder was written holds its default there.
    added_since = {"lottery": asdict(LotteryConfig()), "trainer": {}}
    for section in ("lottery", "trainer"):
        old, new = existing.get(section, {}), wanted[section]
        for key in sorted(set(old) | set(new)):
            if section == "lottery" and _may_change(key, old):
                continue
            before = old.get(key, added_since[section].get(key))
            if before != new.get(key):
                found[f"{section}.{key}"] = f"{section}.{key}: {before!r} in the folder, {new.get(key)!r} now"
    return found
