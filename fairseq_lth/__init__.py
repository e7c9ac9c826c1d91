"""fairseq ``--user-dir`` plugin for lottery tickets: ``--task lottery_translation`` and the IMP driver.

Importing the plugin registers its tasks, lets torch >= 2.6 load fairseq checkpoints and makes
fairseq-train exit cleanly on Python 3.11 (see :mod:`fairseq_lth.clean_exit`).
"""
from . import checkpoint_compat, clean_exit  # noqa: F401
from .tasks import lottery_translation  # noqa: F401
