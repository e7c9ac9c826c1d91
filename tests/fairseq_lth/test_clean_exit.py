"""fairseq's prefetch threads are stopped before exit (they abort Python 3.11 at finalization)."""

import time

from fairseq.data.iterators import BufferedIterator

from fairseq_lth.plugin.clean_exit import stop_prefetchers


def slow_batches():
    while True:
        time.sleep(0.01)
        yield [0] * 8


class Endless:
    def __iter__(self):
        return slow_batches()

    def __len__(self):
        return 10**9


def test_a_prefetcher_stopped_mid_epoch_with_a_full_queue_finishes():
    batches = BufferedIterator(2, Endless())
    assert next(batches) == [0] * 8
    time.sleep(0.1)  # the queue fills up and the thread blocks in put()
    consumer = batches._consumer
    assert consumer.is_alive()
    stop_prefetchers(timeout=10)
    assert not consumer.is_alive()
