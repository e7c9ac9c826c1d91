"""``fairseq-train --task lottery_translation --help`` lists the ``--lth-*`` options.

fairseq prints its help before it adds the chosen task's options, so no task's own options appear
there; the plugin, which fairseq imports first (``--user-dir``), appends the lottery options' help
when the command line asks for help with a lottery task.
"""

from __future__ import annotations

import argparse
import atexit
import dataclasses
import sys
from pathlib import Path

from fairseq.tasks import TASK_DATACLASS_REGISTRY

TASKS = ("lottery_translation", "lottery_language_modeling")


def options_help(task: str) -> str:
    """The help of the ``--lth-*`` options of ``task``."""
    parser = argparse.ArgumentParser(prog="fairseq-train", add_help=False, usage=argparse.SUPPRESS)
    group = parser.add_argument_group(f"lottery options (--task {task}, --user-dir fairseq_lth)")
    for field in dataclasses.fields(TASK_DATACLASS_REGISTRY[task]):
        if field.name.startswith("lth_"):
            default = field.default if field.default is not dataclasses.MISSING else None
            shown = "" if default in (None, False) else f" (default: {default})"
            flag, help_text = f"--{field.name.replace('_', '-')}", field.metadata.get("help", "") + shown
            if field.type in (bool, "bool"):
                group.add_argument(flag, action="store_true", help=help_text)
            else:
                group.add_argument(flag, metavar=field.name.upper().removeprefix("LTH_"), help=help_text)
    return parser.format_help()


def asked_task(argv: list[str]) -> str | None:
    """The lottery task whose help ``argv`` asks for, or None."""
    probe = argparse.ArgumentParser(add_help=False)
    probe.add_argument("--task")
    probe.add_argument("-h", "--help", action="store_true")
    known = probe.parse_known_args(argv)[0]
    return known.task if known.help and known.task in TASKS else None


def in_fairseq_train() -> bool:
    """Whether this process is fairseq-train (the script, or ``python -m fairseq_cli.train``)."""
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    return Path(sys.argv[0]).name == "fairseq-train" or getattr(spec, "name", None) == "fairseq_cli.train"


def install(argv: list[str] | None = None) -> None:
    """In fairseq-train, print the lottery options after fairseq's help (which exits the program) when
    the command line asks for help with a lottery task."""
    task = asked_task(sys.argv[1:] if argv is None else argv)
    if task and in_fairseq_train():
        atexit.register(lambda: print(options_help(task), end=""))
