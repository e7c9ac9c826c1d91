"""fairseq's command-line programs as children of the driver, which owns them.

A child's output goes to its log file line by line as it comes (``tail -f`` works, nothing is held in
memory), its standard output also to an optional callback (progress, fairseq-generate's hypotheses).
A child dies with the driver: it runs in its own process group, which the driver kills when it stops
on an exception (^C included), and on Linux it gets SIGKILL from the kernel when the driver dies
without cleaning up (``kill -9``, out of memory), through ``prctl(PR_SET_PDEATHSIG)``.
"""
from __future__ import annotations

import collections
import ctypes
import ctypes.util
import os
import signal
import subprocess
import threading
from pathlib import Path
from typing import Callable, TextIO

PLUGIN_DIR = str(Path(__file__).resolve().parents[1])  # the fairseq_lth folder: the --user-dir of every fairseq command
_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
_TAIL = 25  # lines of output kept for the error message


class ProcessFailed(RuntimeError):
    """A fairseq program exited with an error; the first line names it, its status, its last output line
    and its log, the following lines hold the end of its output."""


def _prctl():
    try:
        return ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True).prctl
    except (OSError, AttributeError):  # not Linux: children die with the driver only when it exits cleanly
        return None


_PRCTL = _prctl()


def _die_with(parent: int) -> Callable[[], None] | None:
    """The child's preexec_fn: SIGKILL when the driver's thread that started it dies."""
    if _PRCTL is None:
        return None

    def arm() -> None:
        _PRCTL(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the driver died before the signal was armed
            os._exit(1)

    return arm


def run_logged(name: str, cmd: list[str], log: Path, on_line: Callable[[str], None] | None = None,
               append: bool = False, pass_fds: tuple[int, ...] = ()) -> None:
    """Run ``cmd`` (the program ``name``) with its stdout and stderr streamed into ``log`` (appended to with
    ``append``) and each stdout line (without its newline) passed to ``on_line``; raise
    :class:`ProcessFailed` if it fails. ``pass_fds`` stay open in the child (a lock it then holds too)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    out_tail: collections.deque[str] = collections.deque(maxlen=_TAIL)
    err_tail: collections.deque[str] = collections.deque(maxlen=_TAIL)
    with open(log, "a" if append else "w", encoding="utf-8") as sink:
        lock = threading.Lock()
        child = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="replace",
                                 env={**os.environ, "PYTHONUNBUFFERED": "1"}, process_group=0,
                                 preexec_fn=_die_with(os.getpid()), pass_fds=pass_fds)
        errors = threading.Thread(target=_pump, args=(child.stderr, sink, lock, err_tail, None), daemon=True)
        try:
            errors.start()
            _pump(child.stdout, sink, lock, out_tail, on_line)
            errors.join()
            status = child.wait()
        finally:
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()
    if status != 0:
        # A Python program's last words (the exception) are on stderr; fairseq logs to stdout.
        last = next((line for tail in (err_tail, out_tail) for line in reversed(tail) if line.strip()), "no output")
        how = f"was killed by signal {-status}" if status < 0 else f"exited with status {status}"
        raise ProcessFailed(f"{name} {how}: {last.strip()} (log: {log})\n" + "\n".join([*out_tail, *err_tail]))


def _pump(stream: TextIO, sink: TextIO, lock: threading.Lock, tail: collections.deque,
          on_line: Callable[[str], None] | None) -> None:
    for line in stream:
        with lock:
            sink.write(line)
            sink.flush()
            tail.append(line.rstrip("\n"))
        if on_line is not None:
            on_line(line.rstrip("\n"))
