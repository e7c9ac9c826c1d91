"""RL training algorithms by name: ``ALGORITHMS["a2c"]`` (an unknown name is a ValueError naming the
known ones). Each is one module registered with ``@register``; importing this package registers the
built-in ones."""

from . import a2c, elf
from .base import ALGORITHMS, Algorithm, BatchCallback, Runner, register

__all__ = ["ALGORITHMS", "Algorithm", "BatchCallback", "Runner", "register", "a2c", "elf"]
