"""Progress shown to a person: bars only on a terminal, so logs that a file or pipe receives carry no
carriage-return frames; code that writes a log prints periodic one-line progress there instead."""

from __future__ import annotations

import sys

from tqdm.auto import tqdm


def on_terminal() -> bool:
    """Whether stderr (where tqdm draws) is a terminal."""
    return sys.stderr.isatty()


def progress_bar(enabled: bool = True, **options) -> tqdm:
    """A tqdm bar, drawn only when ``enabled`` and stderr is a terminal (a disabled bar still counts)."""
    return tqdm(disable=not (enabled and on_terminal()), **options)


def every(total: int, parts: int = 10) -> int:
    """The step between ``parts`` evenly spaced progress lines over ``total`` (at least 1)."""
    return max(1, total // parts)
