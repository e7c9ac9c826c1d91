"""config.json read back, checked: its structure, the types and ranges of its lottery fields, and the
digest recorded when the toolkit wrote it (a hand edit is named as such). Every command that reads a
run folder (the lottery's rerun, lth-report, lth-export, a transfer's source) reads it here. Also the
run's identity that its mask files record (:mod:`shared_mask.identity`)."""

from __future__ import annotations

import hashlib
import json
import math
import os
import typing
from dataclasses import asdict
from pathlib import Path

from .config import EXTENSIBLE, FREE, SET_ONCE, LotteryConfig

DIGEST_KEY = "digest"  # config.json: SHA-256 of its lottery and trainer sections as the toolkit wrote them
_NOT_DEFINING = (*EXTENSIBLE, *FREE, *SET_ONCE)  # a rerun may set these; masks do not depend on them

_HINTS = typing.get_type_hints(LotteryConfig)
_RANGES = {
    "levels": (lambda v: v >= 0, "a non-negative integer"),
    "rate": (lambda v: 0 < v < 1, "a number in (0, 1)"),
    "seeds": (lambda v: len(v) > 0, "a non-empty list of integers"),
    "tickets": (lambda v: len(v) > 0, "a non-empty list of names"),
}


def read_run_config(path: str | os.PathLike) -> dict:
    """config.json at ``path`` without its digest; ValueError naming the file and the problem."""
    path = Path(path)
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"{path} is corrupt or unreadable: {e}") from e
    if not (isinstance(config, dict) and all(isinstance(config.get(k), dict) for k in ("lottery", "trainer"))):
        raise ValueError(f"{path} is not a run configuration (no lottery and trainer sections)")
    for name, value in config["lottery"].items():
        problem = _problem(name, value)
        if problem:
            raise ValueError(f"{path}: lottery.{name} must be {problem}, got {value!r} (edited by hand?)")
    recorded = config.pop(DIGEST_KEY, None)
    if recorded is not None and recorded != content_digest(config):
        raise ValueError(
            f"{path} was edited by hand: its contents no longer match the digest recorded when the run "
            "wrote it; put it back as it was, or run the new configuration in another folder"
        )
    return config


def _sha256(data) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def content_digest(config: dict) -> str:
    """The digest config.json records of its lottery and trainer sections."""
    return _sha256({"lottery": config["lottery"], "trainer": config["trainer"]})


def run_id(config: dict) -> str:
    """The run's identity: a digest of the experiment-defining fields of config.json (those at their
    defaults left out, so that a field added to the code later keeps old folders' identities)."""
    defaults = asdict(LotteryConfig())
    lottery = {
        k: v for k, v in config["lottery"].items() if k not in _NOT_DEFINING and (k not in defaults or v != defaults[k])
    }
    return _sha256({"lottery": lottery, "trainer": config["trainer"]})[:16]


def with_digest(config: dict) -> dict:
    """``config`` (lottery and trainer sections) with the digest that :func:`read_run_config` checks."""
    return {**config, DIGEST_KEY: content_digest(config)}


def _problem(name: str, value) -> str | None:
    """What is wrong with lottery field ``name`` holding ``value`` (None: nothing; unknown names pass)."""
    if name not in _HINTS:
        return None
    hint = _HINTS[name]
    optional = type(None) in typing.get_args(hint)
    kind = next(a for a in typing.get_args(hint) if a is not type(None)) if optional else hint
    if value is None:
        return None if optional else _expected(kind)
    if typing.get_origin(kind) is list:
        ok = isinstance(value, list) and all(_is(typing.get_args(kind)[0], v) for v in value)
    else:
        ok = _is(kind, value)
    if not ok:
        return _RANGES[name][1] if name in _RANGES else _expected(kind)
    check = _RANGES.get(name)
    return None if check is None or check[0](value) else check[1]


def _is(kind, value) -> bool:
    if kind is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)


def _expected(kind) -> str:
    if typing.get_origin(kind) is list:
        return f"a list of {_NAMES[typing.get_args(kind)[0]]}s"
    return f"{'an' if kind is int else 'a'} {_NAMES[kind]}"


_NAMES = {int: "integer", float: "finite number", str: "string", bool: "boolean"}
