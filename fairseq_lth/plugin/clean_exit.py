"""Stop fairseq's batch-prefetching threads before the interpreter exits.

fairseq's ``BufferedIterator`` (``--data-buffer-size`` > 0, the default) collates batches in a
daemon thread. When training stops at ``--max-update`` in the middle of an epoch, that thread is
still running torch code while Python finalizes; on Python 3.11 a daemon thread caught there is
unwound inside C++ and the process aborts with "terminate called without an active exception"
(exit 134) after training finished (about one tiny fairseq-train run in three on this machine).
Importing the plugin registers an exit handler that asks each live prefetcher to stop after the
batch in hand, drains its queue and joins it.
"""

from __future__ import annotations

import atexit
import queue
import threading
import time

from fairseq.data.iterators import BackgroundConsumer


def stop_prefetchers(timeout: float = 60.0) -> None:
    """Stop every live fairseq prefetch thread (waiting at most ``timeout`` seconds for each)."""
    for thread in threading.enumerate():
        if not isinstance(thread, BackgroundConsumer):
            continue
        thread._max_len = 0  # BackgroundConsumer.run breaks after putting the batch in hand
        deadline = time.monotonic() + timeout
        while thread.is_alive() and time.monotonic() < deadline:
            _drain(thread._queue)
            thread.join(0.01)


def _drain(items: queue.Queue) -> None:
    try:
        while True:
            items.get_nowait()
    except queue.Empty:
        pass


atexit.register(stop_prefetchers)
