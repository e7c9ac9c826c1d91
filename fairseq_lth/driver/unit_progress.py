"""A progress bar per fairseq unit, read from fairseq-train's log lines as they come.

It shows the updates done of --max-update (or of --max-epoch epochs, once the first line says how
many updates an epoch has) and the latest training loss, and starts where a resumed run starts. Off a
terminal (output to a file or a pipe) there is no bar: the driver prints about ten one-line progress
reports per unit instead.
"""

from __future__ import annotations

import re

import shared_mask as sm
from shared_mask.progress import every, on_terminal, progress_bar

LINES = 10  # progress lines per unit off a terminal

_TRAIN = re.compile(r"\| train(_inner)? \|")  # fairseq's training-log lines (simple and json formats)
_UPDATES = re.compile(r"num_updates\W+(\d+)")
_LOSS = re.compile(r"(?<![\w])loss\W+(-?[\d.]+(?:e[-+]?\d+)?|nan|inf)")
_PER_EPOCH = re.compile(r"grouped total_num_itrs = (\d+)")  # logged as each epoch starts
_LOADED = re.compile(r"Loaded checkpoint .* @ (\d+) updates\)")


class UnitProgress:
    """The bar of ``unit`` (``leave=False``; ``enabled=False`` shows nothing); :meth:`line` reads one line."""

    def __init__(self, unit: sm.Unit, max_update: int, max_epoch: int, enabled: bool):
        self.name = f"seed {unit.seed} level {unit.level} {unit.ticket}"
        self.bar = progress_bar(enabled, total=max_update or None, desc=self.name, unit="update", leave=False)
        self.max_epoch = max_epoch
        self.lines = enabled and not on_terminal()
        self.loss = "?"
        self.reported = 0

    def __enter__(self) -> UnitProgress:
        return self

    def __exit__(self, *exc) -> None:
        self.bar.close()

    def line(self, text: str) -> None:
        """Advance to the update count of a fairseq-train log line, with its loss."""
        loaded, per_epoch = _LOADED.search(text), _PER_EPOCH.search(text)
        if loaded:
            self._at(int(loaded.group(1)))
        if per_epoch and self.bar.total is None and self.max_epoch:
            self.bar.total = self.max_epoch * int(per_epoch.group(1))
            self.bar.refresh()
        if not _TRAIN.search(text):
            return
        loss = _LOSS.search(text)
        if loss:
            self.loss = loss.group(1)
            self.bar.set_postfix_str(f"loss {self.loss}", refresh=False)
        updates = _UPDATES.search(text)
        if updates:
            self._at(int(updates.group(1)))

    def scoring(self) -> None:
        self.bar.set_postfix_str("scoring")

    def _at(self, updates: int) -> None:
        self.bar.update(updates - self.bar.n)
        total = self.bar.total
        if self.lines and total and updates // every(total, LINES) > self.reported // every(total, LINES):
            print(f"{self.name}: update {updates}/{total}, loss {self.loss}", flush=True)
        self.reported = max(self.reported, updates)
