"""`lth-status RUN [RUN ...]`: where each run stands, read from its folder alone.

Per run folder (a folder of run folders is searched): whether a lottery command is working in it now
(run.json's last invocation, its process alive on this host), units done / failed / running or
interrupted / not started, the failed units with their error and log, and the time left at the unit
speed observed in the folder (its finished units' metrics.json).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import sys

from .estimate import duration, observed_unit_seconds, time_left
from .provenance import read_invocations
from .report.runs import RunError, load_run
from .run_folder import RunFolder, find_runs


def live_invocation(run: RunFolder) -> dict | None:
    """run.json's last invocation when it has not ended and its process is alive (or on another host)."""
    invocations = read_invocations(run)
    last = invocations[-1] if invocations else None
    if not last or last.get("end") is not None:
        return None
    if last.get("host") != socket.gethostname():
        return last  # cannot look at another machine's processes
    try:
        os.kill(int(last["pid"]), 0)
    except (ProcessLookupError, KeyError, TypeError, ValueError):
        return None
    except PermissionError:
        pass
    return last


def unit_states(run) -> dict[str, list]:
    """The units of a loaded report Run by state: done, failed, started, waiting."""
    states = {"done": [], "failed": [], "started": [], "waiting": []}
    folder = RunFolder(run.path)
    for key in run.expected_units():
        files = folder.unit(key)
        if files.metrics.exists():
            states["done"].append(key)
        elif files.failure.exists():
            states["failed"].append(key)
        elif files.dir.is_dir():
            states["started"].append(key)
        else:
            states["waiting"].append(key)
    return states


def status_lines(path) -> list[str]:
    """The status of the run folder at ``path``: a headline and the failed and running units."""
    run = load_run(path, name=str(path), require_results=False)
    folder = RunFolder(run.path)
    states, live = unit_states(run), live_invocation(folder)
    started = "running" if live else "interrupted"
    total = len(run.expected_units())
    where = f"running (pid {live['pid']} on {live['host']} since {live['start']})" if live else "not running"
    head = (
        f"{path}: {where}: {len(states['done'])} of {total} units done, {len(states['failed'])} failed, "
        f"{len(states['started'])} {started}, {len(states['waiting'])} not started"
    )
    left = total - len(states["done"])
    observed = observed_unit_seconds(folder)
    if left and observed:
        per_unit = statistics.fmean(observed)
        at_once = max(1, int(((live or {}).get("workers") or {}).get("workers") or 1))
        head += f"; about {duration(time_left(left, per_unit, at_once))} left at {duration(per_unit)} per unit"
        head += "" if at_once == 1 else f", {at_once} at a time"
    lines = [head]
    for seed, level, ticket in states["failed"]:
        files = folder.unit((seed, level, ticket))
        lines.append(f"  failed: seed {seed} level {level} {ticket}: {_error(files.failure)} (log: {files.log})")
    lines += [f"  {started}: seed {s} level {level} {t}" for s, level, t in states["started"]]
    return lines


def _error(path) -> str:
    try:
        return str(json.loads(path.read_text(encoding="utf-8"))["error"])
    except (OSError, ValueError, KeyError, TypeError):
        return "(unreadable failure.json)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lth-status", description=__doc__.split("\n\n")[1])
    parser.add_argument("runs", nargs="+", metavar="RUN", help="run folders, or folders holding run folders")
    args = parser.parse_args(argv)
    status = 0
    for given in args.runs:
        for path in find_runs(given):
            try:
                print("\n".join(status_lines(path)))
            except RunError as error:
                print(f"lth-status: error: {error}", file=sys.stderr)
                status = 2
    return status


if __name__ == "__main__":
    sys.exit(main())
