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
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple, TextIO

PLUGIN_DIR = str(Path(__file__).resolve().parents[1])  # the fairseq_lth folder: the --user-dir of every fairseq command
_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
_TAIL = 25  # lines of output kept for the error message
_DIVERGED = "gradients are nan/inf"  # fairseq's words for non-finite gradients


class ProcessFailed(RuntimeError):
    """A fairseq program exited with an error; the first line names it, its status, its last output line
    and its log, the following lines hold the end of its output."""


def fairseq_program(target: str) -> list[str]:
    """The command line that runs the fairseq program ``target`` (``fairseq_cli.train``, or
    ``MODULE:FUNCTION``) in a child, through :mod:`fairseq_lth.driver.fairseq_program`."""
    return [sys.executable, "-m", "fairseq_lth.driver.fairseq_program", target]


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


class Member(NamedTuple):
    """One program of a group: its command, its log file and the callback for its stdout lines."""

    cmd: list[str]
    log: Path
    on_line: Callable[[str], None] | None = None


def run_logged(
    name: str,
    cmd: list[str],
    log: Path,
    on_line: Callable[[str], None] | None = None,
    append: bool = False,
    pass_fds: tuple[int, ...] = (),
) -> None:
    """Run ``cmd`` (the program ``name``) with its stdout and stderr streamed into ``log`` (appended to with
    ``append``) and each stdout line (without its newline) passed to ``on_line``; raise
    :class:`ProcessFailed` if it fails. ``pass_fds`` stay open in the child (a lock it then holds too)."""
    run_group(name, [Member(cmd, log, on_line)], append, pass_fds)


def run_group(name: str, members: list[Member], append: bool = False, pass_fds: tuple[int, ...] = ()) -> None:
    """Run the ``members`` at once (the ranks of one data-parallel training), each logged as :func:`run_logged`
    does; when one fails the others are killed (a rank left alone would wait for its peers forever) and
    :class:`ProcessFailed` names the first that failed (``name``, and its rank in a group of several)."""
    runs = []
    try:
        for rank, member in enumerate(members):
            label = name if len(members) == 1 else f"{name} (rank {rank})"
            runs.append(_Child(label, member, append, pass_fds))
        failed = None
        while failed is None and any(run.status is None for run in runs):
            time.sleep(0.05)
            for run in runs:
                if run.error is not None:  # raised by an on_line callback (^C, a stop): stop everyone
                    raise run.error
            failed = next((run for run in runs if run.status not in (None, 0)), None)
    finally:
        for run in runs:
            run.stop()
    if failed is not None:  # the first to fail, not the others stopped for it
        failed.raise_failure()


# fairseq logs this install hint of a package the toolkit never uses as it is imported, before the plugin can
# quiet it (the plugin silences the other libraries' notices): left out of the logs the driver writes.
_NOISE = "| fairseq.tasks.text_to_speech | Please install tensorboardX"


class _Child:
    """A started program whose stdout and stderr threads copy its output into its log."""

    def __init__(self, name: str, member: Member, append: bool, pass_fds: tuple[int, ...]):
        self.name, self.log = name, member.log
        member.log.parent.mkdir(parents=True, exist_ok=True)
        self.out_tail: collections.deque[str] = collections.deque(maxlen=_TAIL)
        self.err_tail: collections.deque[str] = collections.deque(maxlen=_TAIL)
        self.sink = open(member.log, "a" if append else "w", encoding="utf-8")
        self.process = subprocess.Popen(
            member.cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            process_group=0,
            preexec_fn=_die_with(os.getpid()),
            pass_fds=pass_fds,
        )
        self.error: BaseException | None = None
        self.diverged = False  # fairseq said "gradients are Nan/Inf"
        lock = threading.Lock()
        self.pumps = [
            threading.Thread(target=self._pump, args=(stream, lock, tail, on_line), daemon=True)
            for stream, tail, on_line in (
                (self.process.stdout, self.out_tail, member.on_line),
                (self.process.stderr, self.err_tail, None),
            )
        ]
        for pump in self.pumps:
            pump.start()

    @property
    def status(self) -> int | None:
        """The exit status once the program ended and its output is in the log, else None."""
        status = self.process.poll()
        return None if status is None or any(p.is_alive() for p in self.pumps) else status

    def stop(self) -> None:
        """Kill the program's process group if it still runs; close its log."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        for pump in self.pumps:
            pump.join()
        self.sink.close()

    def raise_failure(self) -> None:
        # A Python program's last words (the exception) are on stderr; fairseq logs to stdout.
        tails = (self.err_tail, self.out_tail)
        last = next((line for tail in tails for line in reversed(tail) if line.strip()), "no output")
        if self.diverged:  # fairseq's NaN detector then dies of a StopIteration: name the cause instead
            last = "gradients are NaN/inf: training diverged; a lower learning rate (--lr) is the usual fix"
        status = self.process.returncode
        how = f"was killed by signal {-status}" if status < 0 else f"exited with status {status}"
        raise ProcessFailed(
            f"{self.name} {how}: {last.strip()} (log: {self.log})\n" + "\n".join([*self.out_tail, *self.err_tail])
        )

    def _pump(
        self, stream: TextIO, lock: threading.Lock, tail: collections.deque, on_line: Callable[[str], None] | None
    ) -> None:
        for line in stream:
            if _NOISE in line:
                continue
            with lock:
                self.sink.write(line)
                self.sink.flush()
                tail.append(line.rstrip("\n"))
                self.diverged = self.diverged or _DIVERGED in line.lower()
            if on_line is not None and self.error is None:
                try:
                    on_line(line.rstrip("\n"))
                except BaseException as error:  # handed to the waiting thread, which stops the group
                    self.error = error
