"""fairseq ``--user-dir`` plugin for lottery tickets: ``--task lottery_translation`` and the IMP driver.

Importing the plugin registers its tasks and lets torch >= 2.6 load fairseq checkpoints.
"""
from . import checkpoint_compat  # noqa: F401
from .tasks import lottery_translation  # noqa: F401
