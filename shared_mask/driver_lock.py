"""One driver per run folder: the driver holds an exclusive ``flock`` on RUN/.driver.lock for as long as
it runs, and the file names it (process id and host). A second driver on the same folder is refused
with one line naming the holder. The kernel releases the lock of a process that dies, however it dies,
so a lock file left by a dead driver is simply taken over (its stale name is overwritten).

``flock`` covers drivers on one machine, and machines that share the folder over a file system that
implements it across clients (NFS v4, Lustre, CephFS do).
"""

from __future__ import annotations

import fcntl
import os
import socket
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from .run_folder import RunFolder


@contextmanager
def driver_lock(run: RunFolder) -> Iterator[None]:
    """Hold ``run``'s driver lock; ValueError naming the holder when another driver has it. A folder the
    driver did not claim (no config.json) is left as it was: the lock file goes, and the folder too if
    this call created it."""
    if run.root.exists() and not run.root.is_dir():
        raise ValueError(f"{run.root} is a file, not a run folder")
    created = not run.root.exists()
    try:
        run.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(run.driver_lock, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:
        raise ValueError(f"cannot write the run folder {run.root}: {e.strerror or e}") from e
    held = False
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            held = True
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "another process"
            raise ValueError(
                f"{run.root} is in use by another driver ({holder}): wait for it to end, or use another --out"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"process {os.getpid()} on {socket.gethostname()}\n".encode(), 0)
        yield
    finally:
        if held and not run.config.exists():  # nothing was claimed: leave the folder as it was
            run.driver_lock.unlink(missing_ok=True)
            if created and not any(run.root.iterdir()):
                run.root.rmdir()
        os.close(fd)


@contextmanager
def driver_locks(runs: list[RunFolder]) -> Iterator[None]:
    """Hold the driver locks of every folder of ``runs`` (a sweep)."""
    with ExitStack() as stack:
        for run in runs:
            stack.enter_context(driver_lock(run))
        yield
