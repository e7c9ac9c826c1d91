"""One owner per unit folder at a time: the driver that trains the unit and the fairseq-train it starts.

The owner holds an exclusive ``flock`` on ``UNIT/.lock`` and passes the descriptor on to fairseq-train,
so the lock lasts as long as either lives: a rerun never trains a unit beside a fairseq-train left
over from a killed driver (on Linux such a child is killed with the driver, see
:mod:`fairseq_lth.driver.processes`; the rerun waits the moment it takes to die), nor beside a second driver
on the same run folder.
"""

from __future__ import annotations

import fcntl
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

WAIT_SECONDS = 30.0  # how long a rerun waits for the unit's previous owner to go


@contextmanager
def unit_lock(folder: Path, wait: float = WAIT_SECONDS) -> Iterator[int]:
    """Hold ``folder``'s lock (waiting up to ``wait`` seconds for its owner to go); yield its descriptor."""
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    owner = os.pread(fd, 200, 0).decode(errors="replace").strip() or "another process"
                    raise RuntimeError(
                        f"{folder} is in use: locked by {owner}, or a fairseq program it started, "
                        f"for over {wait:g} s (a second driver on this run folder?)"
                    ) from None
                time.sleep(0.1)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"process {os.getpid()} on {socket.gethostname()}\n".encode(), 0)
        yield fd
    finally:
        os.close(fd)
