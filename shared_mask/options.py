"""Command lines generated from config dataclasses, and the lottery option group every CLI shares.

Each dataclass field becomes one ``--kebab-name`` option (or ``metadata["flags"]``): its help is the
field's ``metadata["help"]`` (fairseq's convention), its choices ``metadata["choices"]`` (a registry
works: it is read when the command line is parsed), ``bool`` a ``--flag/--no-flag`` pair, ``list[X]`` a
``nargs="+"`` option of X, ``X | None`` an option of X. Floats must be finite. A new field therefore
shows up in every CLI built from its dataclass with no other edit.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import math
import sys
import types
import typing
from collections.abc import Callable
from typing import Any

from .config import LotteryConfig
from .early_bird import EarlyBirdSettings
from .errors import one_line_errors
from .stability import StabilitySettings
from .workers import UnitFailed, Workers

UNSET_HELP = "default: the preset's"


class ArgumentParser(argparse.ArgumentParser):
    """argparse whose errors are one line, ``prog: error: ...`` (``--help`` shows the usage)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows defaults, except for options whose unset value (None) means "the preset's"."""

    def _get_help_string(self, action):
        return action.help if action.default is None else super()._get_help_string(action)


def finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def check_settings(config, unit_interval: tuple[str, ...] = ()) -> None:
    """For a config dataclass's ``__post_init__``: every float field must be finite (NaN slips through
    comparisons such as ``lr <= 0``), and the fields named in ``unit_interval`` must lie in [0, 1]."""
    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"{field.name} must be a finite number, got {value}")
        if field.name in unit_interval and not 0 <= value <= 1:
            raise ValueError(f"{field.name} must be in [0, 1], got {value}")


def add_dataclass_options(
    parser, cls: type, *, unset_default: bool = False, unset_help: str | Callable[[str], str] = UNSET_HELP, exclude=()
) -> None:
    """One option per field of dataclass ``cls`` (see the module docstring), into ``parser`` or a group.

    ``unset_default``: every option defaults to None ("keep the preset's value", see
    :func:`dataclass_from_args`) instead of the field's default; ``unset_help`` (a text, or a function
    of the field's name, e.g. one that shows the preset's value) says so in the help.
    """
    hints = typing.get_type_hints(cls)
    for field in dataclasses.fields(cls):
        if field.name in exclude or not field.init:
            continue
        if "help" not in field.metadata:
            raise TypeError(
                f"{cls.__name__}.{field.name} has no help: declare it with field(default=..., metadata={{'help': ...}})"
            )
        kind, many = _option_type(hints[field.name], f"{cls.__name__}.{field.name}")
        unset = unset_help(field.name) if callable(unset_help) else unset_help
        help_text = field.metadata["help"] + (f" ({unset})" if unset_default else "")
        options: dict[str, Any] = {
            "dest": field.name,
            "help": help_text,
            "default": None if unset_default else _default(field),
        }
        if kind is bool and not many:
            options["action"] = argparse.BooleanOptionalAction
        else:
            options["type"] = finite_float if kind is float else kind
            if many:
                options["nargs"] = "+"
            if "choices" in field.metadata:
                options["choices"] = field.metadata["choices"]
        parser.add_argument(*field.metadata.get("flags", [f"--{field.name.replace('_', '-')}"]), **options)


def dataclass_from_args(cls: type, args: argparse.Namespace, base: Any = None, **fallbacks):
    """An instance of ``cls`` from parsed ``args``. Options left at None keep ``base``'s values (or
    ``fallbacks``, or the class defaults). The dataclass's own ``__post_init__`` validates the result."""
    given = {
        f.name: getattr(args, f.name)
        for f in dataclasses.fields(cls)
        if f.init and getattr(args, f.name, None) is not None
    }
    return dataclasses.replace(base, **given) if base is not None else cls(**{**fallbacks, **given})


def add_lottery_options(parser: argparse.ArgumentParser, **defaults) -> argparse._ArgumentGroup:
    """``--out``, the "lottery" group generated from :class:`LotteryConfig` (plus ``--extensions``, see
    :func:`import_extensions`) and the "workers" group from :class:`~shared_mask.workers.Workers`;
    ``defaults`` replace a lottery field's default for this command (e.g. ``rewind="1epoch"``, or None
    for "the task's")."""
    parser.add_argument("--out", required=True, help="run folder; rerunning the same command resumes it")
    group = parser.add_argument_group("lottery")
    studies = (("stability analysis", StabilitySettings), ("early-bird tickets", EarlyBirdSettings))
    add_dataclass_options(group, LotteryConfig, exclude={f.name for _, cls in studies for f in dataclasses.fields(cls)})
    for title, settings in studies:
        add_dataclass_options(parser.add_argument_group(title), settings)
    add_dataclass_options(parser.add_argument_group("workers"), Workers)
    group.add_argument(
        "--extensions",
        nargs="+",
        default=[],
        metavar="MODULE",
        help="Python modules to import first: they register their own ticket kinds, pruning "
        "strategies or algorithms (see docs/design.md)",
    )
    unknown = set(defaults) - {f.name for f in dataclasses.fields(LotteryConfig)}
    if unknown:
        raise TypeError(f"LotteryConfig has no fields {', '.join(sorted(unknown))}")
    parser.set_defaults(**defaults)
    return group


def import_extensions(argv: list[str]) -> list[str]:
    """Import the modules listed after ``--extensions`` in ``argv`` and return their names.

    Call it before parsing: the ticket kinds, pruning strategies and algorithms those modules register
    then count as valid choices wherever ``--extensions`` stands on the command line.
    """
    probe = argparse.ArgumentParser(add_help=False)
    probe.add_argument("--extensions", nargs="+", default=[])
    modules = probe.parse_known_args(argv)[0].extensions
    for module in modules:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as error:
            raise ValueError(f"--extensions {module}: {error} (is its folder on PYTHONPATH?)") from None
    return modules


def lottery_config_from_args(args: argparse.Namespace, **fallbacks) -> LotteryConfig:
    """The :class:`LotteryConfig` of parsed lottery options; ``fallbacks`` fill options left at None."""
    return dataclass_from_args(LotteryConfig, args, **fallbacks)


def workers_from_args(args: argparse.Namespace) -> Workers:
    return dataclass_from_args(Workers, args)


def run_command(parser: argparse.ArgumentParser, command: Callable[[], object]) -> None:
    """Run ``command``. A bad setting, a missing or damaged file, a full or read-only disk or a failed unit
    ends the program with one ``prog: error:`` line and status 2 (set ``LTH_DEBUG=1`` for the traceback); ^C exits with status 130."""
    try:
        with one_line_errors(parser, (UnitFailed,)):
            command()
    except KeyboardInterrupt:
        sys.exit(130)


def _default(field: dataclasses.Field):
    if field.default is not dataclasses.MISSING:
        return field.default
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return None


def _option_type(hint, where: str) -> tuple[type, bool]:
    """(element type, is a list) of a field's type: X, list[X], X | None, list[X] | None."""
    args = typing.get_args(hint)
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        if len(inner) != 1:
            raise TypeError(f"{where}: cannot make an option of {hint}")
        return _option_type(inner[0], where)
    if typing.get_origin(hint) in (list, tuple):
        return _option_type(args[0], where)[0], True
    if hint in (int, float, str, bool):
        return hint, False
    raise TypeError(f"{where}: cannot make an option of {hint}")
