"""Runs one fairseq program in a child of the driver and leaves it without Python's interpreter teardown.

After a fairseq program ends, finalizing the interpreter (freeing torch's, fairseq's and scikit-learn's
modules) takes 1-2.5 s here: a tiny fairseq-train took 9.5 s as ``python -m fairseq_cli.train`` and
7.0 s through this module, and a lottery runs two or more such programs per unit. The exit handlers
still run, in order (fairseq's closes its tensorboard writers, the plugin's stops fairseq's prefetch
threads), then the output is flushed and the process exits with the program's status.

    python -m fairseq_lth.driver.fairseq_program fairseq_cli.train DATA --user-dir ... (a module run as
    __main__, as ``python -m``) or MODULE:FUNCTION ARGS... (``FUNCTION(ARGS)``)
"""

from __future__ import annotations

import atexit
import importlib
import logging
import os
import runpy
import sys

_status = 1  # an uncaught exception: Python prints it, then runs the exit handlers


def _exit() -> None:
    """The last exit handler (registered first): flush, then exit without finalizing the interpreter."""
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    os._exit(_status)


def main() -> None:
    global _status
    atexit.register(_exit)
    target, argv = sys.argv[1], sys.argv[2:]
    try:
        if ":" in target:
            module, function = target.split(":")
            getattr(importlib.import_module(module), function)(argv)
        else:
            if target.startswith("fairseq_cli."):
                # What --user-dir fairseq_lth imports: running this module imported the fairseq_lth package before
                # fairseq, so that did not register the plugin, and fairseq does not import a package twice.
                importlib.import_module("fairseq_lth.plugin")
            sys.argv = [target, *argv]
            runpy.run_module(target, run_name="__main__", alter_sys=True)
        _status = 0
    except SystemExit as stop:
        _status = stop.code if isinstance(stop.code, int) else 0 if stop.code is None else 1
        raise


if __name__ == "__main__":
    main()
