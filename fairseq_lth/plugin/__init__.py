"""The code that runs inside fairseq-train (and fairseq-generate, fairseq-eval-lm): its tasks, model
and hooks. It never imports the driver.

Importing the plugin registers its tasks and models, lets torch >= 2.6 load fairseq checkpoints and
makes fairseq-train exit cleanly on Python 3.11 (see :mod:`fairseq_lth.plugin.clean_exit`).
"""

import logging
import warnings

# fairseq's text-to-speech task prints an install hint for a package the plugin never uses when fairseq's
# tasks are imported (through a root handler it installs for itself).
logging.getLogger("fairseq.tasks.text_to_speech").setLevel(logging.WARNING)
# Notices of other libraries that fairseq 0.12 triggers in every run (hydra's deprecations, torch.cuda.amp's,
# torch's on fairseq's attention masks, pin_memory on a machine without an accelerator): nothing for a
# lottery user to act on, kept out of the logs.
warnings.filterwarnings("ignore", module=r"hydra(\.|$)")
warnings.filterwarnings("ignore", message=r"\s*'config' is validated against ConfigStore schema")
warnings.filterwarnings("ignore", message=r".*torch\.cuda\.amp")
warnings.filterwarnings("ignore", message=r".*pin_memory")
warnings.filterwarnings("ignore", message=r"Support for mismatched key_padding_mask and attn_mask is deprecated")

from . import checkpoint_compat, clean_exit, task_help  # noqa: F401,E402
from .models import lstm_lm  # noqa: F401,E402
from .tasks import lottery_language_modeling, lottery_translation  # noqa: F401,E402

task_help.install()
