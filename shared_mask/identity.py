"""What a mask file claims to be: the run, seed and level it belongs to.

A mask file records its run's identity (a digest of config.json's experiment-defining fields,
:func:`shared_mask.config_file.run_id`), its seed and its level in its metadata, and a mask read for
another run, seed or level is refused: masks swapped between levels or seeds are never used.
"""

from __future__ import annotations


def mask_identity(run: str, seed: int, level: int) -> dict[str, str]:
    """The metadata a mask file of ``run``'s ``seed`` and ``level`` records."""
    return {"run": run, "seed": str(seed), "level": str(level)}


def _describe(identity: dict[str, str]) -> str:
    return f"seed {identity.get('seed')} level {identity.get('level')} of run {identity.get('run')}"


def check_mask_identity(recorded: dict[str, str], expected: dict[str, str] | None, path) -> None:
    """ValueError naming ``path`` when the mask it holds records another run, seed or level than
    ``expected``; files from before identities (none recorded) pass."""
    if expected is None or not all(key in recorded for key in expected):
        return
    if any(recorded[key] != value for key, value in expected.items()):
        raise ValueError(
            f"{path} holds the mask of {_describe(recorded)}, not of {_describe(expected)} "
            "(moved or copied from elsewhere): put this level's own mask file back"
        )
