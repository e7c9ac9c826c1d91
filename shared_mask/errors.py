"""One line and exit status 2 for every error a user can act on (a bad setting, a damaged or missing
file, a full or read-only disk); ``LTH_DEBUG=1`` shows the traceback with its cause instead."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

DEBUG = "LTH_DEBUG"


def error_line(error: BaseException) -> str:
    """The first line of ``error``'s message; an OS error as its file and reason."""
    if isinstance(error, OSError) and error.strerror:
        where = error.filename2 or error.filename
        return f"{where}: {error.strerror}" if where else error.strerror
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


@contextmanager
def one_line_errors(parser, also: tuple[type[BaseException], ...] = ()) -> Iterator[None]:
    """Turn a ValueError, an OSError (or one of ``also``) into ``prog: error: ...`` and exit status 2."""
    try:
        yield
    except (ValueError, OSError, *also) as error:
        if os.environ.get(DEBUG):
            raise
        parser.exit(2, f"{parser.prog}: error: {error_line(error)}\n")
