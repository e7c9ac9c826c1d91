"""Claiming a run folder for a configuration: config.json is written once, and a rerun is checked
against it (it may add seeds, levels or tickets, and change what changes no result)."""

from __future__ import annotations

import json
from dataclasses import asdict

from .config import EXTENSIBLE, FREE, LotteryConfig
from .files import write_json
from .run_folder import RunFolder


def claim_run_folder(run: RunFolder, config: LotteryConfig, trainer_config: dict) -> None:
    """Write config.json, or check that the folder's existing run has the same configuration."""
    wanted = json.loads(json.dumps({"lottery": asdict(config), "trainer": trainer_config}))
    out, path = run.root, run.config
    if out.exists() and not out.is_dir():
        raise ValueError(f"{out} is a file, not a run folder")
    if path.exists():
        try:
            existing = json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise ValueError(f"{path} is corrupt: {e}") from e
        if not (isinstance(existing, dict) and all(isinstance(existing.get(k), dict) for k in ("lottery", "trainer"))):
            raise ValueError(f"{path} is not a run configuration (no lottery and trainer sections)")
        differences = _differences(existing, wanted)
        if differences:
            raise ValueError(
                f"{out} holds a run with a different configuration ({'; '.join(differences)}); "
                "use another output folder"
            )
        lottery = {**asdict(LotteryConfig()), **existing["lottery"]}  # a field added since reads as its default
        for key in ("seeds", "tickets", "stability_points", "stability_levels"):
            wanted["lottery"][key] = lottery[key] + [x for x in wanted["lottery"][key] if x not in lottery[key]]
        wanted["lottery"]["levels"] = max(lottery["levels"], wanted["lottery"]["levels"])
    elif out.exists() and any(out.iterdir()):
        raise ValueError(f"{out} is not empty and holds no config.json: not a run folder")
    try:
        write_json(path, wanted)
    except OSError as e:
        raise ValueError(f"cannot write the run folder {out}: {e.strerror or e}") from e
    for leftover in run.leftovers():
        leftover.unlink(missing_ok=True)


def _may_change(key: str, old: dict) -> bool:
    """Lottery fields a rerun may set otherwise: more seeds, levels or tickets, what is kept on disk,
    and a transfer added to a run that had none."""
    return key in EXTENSIBLE + FREE or (key == "transfer_from" and old.get(key) is None)


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
