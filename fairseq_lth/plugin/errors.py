"""The plugin's own checks end a fairseq program with one line, as the driver's do
(``fairseq_lth: error: ...``, exit status 2), not with a traceback; ``LTH_DEBUG=1`` keeps the traceback."""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager

PROG = "fairseq_lth"


@contextmanager
def one_line_errors():
    """Turn a ValueError, KeyError or FileNotFoundError raised inside into one line and exit status 2."""
    try:
        yield
    except (ValueError, KeyError, FileNotFoundError) as error:
        if os.environ.get("LTH_DEBUG"):
            raise
        message = error.args[0] if isinstance(error, KeyError) and error.args else error
        print(f"{PROG}: error: {message}", file=sys.stderr, flush=True)
        raise SystemExit(2) from None
