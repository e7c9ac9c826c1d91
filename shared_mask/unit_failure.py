"""A unit's failed attempt on disk: its traceback at the end of the unit's train.log and its error in
failure.json (what `lth-status` counts as failed), both written where the unit trained (a Ray worker
included); failure.json goes when the unit starts again."""

from __future__ import annotations

import time
import traceback

from .files import write_json
from .run_folder import UnitFolder


def clear_failure(files: UnitFolder) -> None:
    files.failure.unlink(missing_ok=True)


def record_failure(files: UnitFolder, error: BaseException) -> None:
    """Append ``error``'s traceback to the unit's log and write its first line to failure.json."""
    when = time.strftime("%Y-%m-%d %H:%M:%S")
    with files.log.open("a", encoding="utf-8") as log:
        log.write(f"{when} failed:\n{''.join(traceback.format_exception(error))}")
    write_json(files.failure, {"error": f"{type(error).__name__}: {first_line(error)}", "time": when})


def first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [""])[0]
