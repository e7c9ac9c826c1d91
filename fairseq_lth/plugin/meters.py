"""fairseq's meters in a run that starts from another run's checkpoint (a ticket from the rewind point).

fairseq restores the meters saved in a mid-epoch checkpoint (``extra_state["metrics"]``): the loss
averages, ``train_wall`` and the ``wall`` stopwatch. The restored ``wall`` is never started again (fairseq
starts it once, when the trainer is built, in the aggregator that the restore replaces), so every later
progress line logs ``wall=0``; and a ticket's epoch averages would include the dense run's updates before
the rewind point.
"""

from fairseq.logging import metrics

# The aggregators fairseq's training loop logs to (and saves with a checkpoint).
TRAINING_AGGREGATORS = ("default", "train", "train_inner")


def start_meters(fresh: bool) -> None:
    """Called at the run's first epoch, after fairseq restored its checkpoint's meters.

    ``fresh`` (a ticket starting at the rewind point): the restored meters are another run's, so all start
    over, the wall clock included (from here: this process's setup before its first epoch is not counted).
    Otherwise (a resumed run) the run's own meters stay, and a stopped wall clock starts again.
    """
    if fresh:
        for name in TRAINING_AGGREGATORS:
            metrics.reset_meters(name)
    wall = metrics.get_meter("default", "wall")
    if wall is not None and wall.start_time is None:
        wall.start()
