"""The stability line's metric for fairseq: a network's validation loss (translation, fairseq's base-2
cross-entropy) or validation log perplexity (language models, nats), by fairseq-validate on a checkpoint
of the network."""

from __future__ import annotations

import math
import re
import subprocess
import tempfile
from pathlib import Path

from torch import nn

from .processes import PLUGIN_DIR, fairseq_program

_LOSS = re.compile(r"valid on '[^']*' subset \|.*?\bloss ([0-9.eE+-]+)")
SUBSET = "valid"


def metric_of(task: str) -> tuple[str, bool]:
    """(metric name, higher is better) of the line for a lottery task."""
    return ("valid_log_ppl", False) if task == "lottery_language_modeling" else ("valid_loss", False)


def validate(trainer, model: nn.Module) -> float:
    """``model`` saved as an update-0 checkpoint of the trainer's configuration, scored on the validation
    subset by fairseq-validate (with the training's batch size); the metric :func:`metric_of` names."""
    cfg = trainer._setup()[0]
    with tempfile.TemporaryDirectory(prefix="lth-line-") as tmp:
        checkpoint = Path(tmp) / "line.pt"
        trainer.save_weights(model, checkpoint)
        batch = ["--max-tokens", str(cfg.dataset.max_tokens)] if cfg.dataset.max_tokens else []
        batch += ["--batch-size", str(cfg.dataset.batch_size)] if cfg.dataset.batch_size else []
        command = [*fairseq_program("fairseq_cli.validate"), trainer.data, "--user-dir", PLUGIN_DIR]
        # fairseq-validate's parser needs a task; the checkpoint's own (the lottery task) is the one it builds.
        command += ["--task", trainer.task.removeprefix("lottery_"), "--path", str(checkpoint)]
        command += ["--valid-subset", SUBSET, *batch]
        command += ["--cpu"] if cfg.common.cpu else []
        result = subprocess.run(command, capture_output=True, text=True)
    found = _LOSS.findall(result.stdout + result.stderr)
    if result.returncode != 0 or not found:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-5:])
        raise RuntimeError(f"fairseq-validate failed on a network of the stability line: {tail}")
    loss = float(found[-1])
    return loss * math.log(2) if metric_of(trainer.task)[0] == "valid_log_ppl" else loss
