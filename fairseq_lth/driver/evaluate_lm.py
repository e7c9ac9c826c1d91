"""Evaluate a fairseq language-model run: the test set's log perplexity with the real fairseq-eval-lm.

The paper's metric is the log perplexity in natural log: the mean negative log-likelihood per
token in nats. fairseq reports losses in base 2, so ``log_ppl = loss_base2 * ln 2``. The test set is
scored in the blocks the model was trained on (the checkpoint's --tokens-per-sample and
--sample-break-mode), every token once.

    python -m fairseq_lth.driver.evaluate_lm SAVE_DIR --data DATA [--average-last 1] [--gen-subset test] \\
        [--out metrics.json]
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

from fairseq import options
from fairseq.data import data_utils
from fairseq.dataclass.utils import convert_namespace_to_omegaconf
from fairseq_cli import eval_lm

from ..plugin.checkpoint_compat import load_checkpoint
from .processes import PLUGIN_DIR, fairseq_program, run_logged
from .scoring import LMEvalConfig
from .scoring_cli import cli

_COUNT = re.compile(r"Evaluated ([\d,]+) tokens")
_RESULT = re.compile(r"^eval-lm loss in bits: (\S+)$", re.M)


def log_perplexity(data: str, checkpoint: str | os.PathLike, cfg: LMEvalConfig, log: Path) -> float:
    """Mean negative log-likelihood per token of ``cfg.subset``, in nats, with fairseq-eval-lm."""
    task = load_checkpoint(checkpoint, mmap=True)["cfg"]["task"]
    dataset = data_utils.load_indexed_dataset(os.path.join(data, cfg.subset), None)
    if dataset is None:
        raise FileNotFoundError(f"no binarized {cfg.subset!r} subset in {data}")
    expected = int(dataset.sizes.sum())
    # fairseq-eval-lm prints its loss to 4 decimals; eval_lm_full_precision runs it and prints the loss in full.
    cmd = [
        *fairseq_program("fairseq_lth.driver.evaluate_lm:eval_lm_full_precision"),
        data,
        "--user-dir",
        PLUGIN_DIR,
        "--path",
        str(checkpoint),
        "--task",
        task["_name"],
        "--gen-subset",
        cfg.subset,
        "--max-tokens",
        str(cfg.max_tokens),
        "--tokens-per-sample",
        str(task["tokens_per_sample"]),
        "--sample-break-mode",
        task["sample_break_mode"],
        "--output-dictionary-size",
        str(task["output_dictionary_size"]),
    ]
    if task["add_bos_token"]:
        cmd.append("--add-bos-token")
    if cfg.cpu:
        cmd.append("--cpu")
    run_logged("fairseq-eval-lm", cmd, log)
    out = log.read_text()  # fairseq logs to stdout or stderr, depending on the logging set-up
    loss, count = _RESULT.search(out), _COUNT.search(out)
    if loss is None or count is None or int(count.group(1).replace(",", "")) != expected:
        scored = "?" if count is None else count.group(1)
        raise RuntimeError(f"fairseq-eval-lm scored {scored} of the {expected:,} tokens of {cfg.subset}; see {log}")
    return float(loss.group(1)) * math.log(2)


def eval_lm_full_precision(argv: list[str]) -> None:
    """fairseq-eval-lm with the arguments ``argv``, printing its mean loss per token in bits in full."""
    args = options.parse_args_and_arch(options.get_eval_lm_parser(), argv)
    results = eval_lm.main(convert_namespace_to_omegaconf(args))
    print(f"eval-lm loss in bits: {float(results['loss'])!r}")


def evaluate(
    data: str, checkpoint: str | os.PathLike, cfg: LMEvalConfig, work_dir: str | os.PathLike
) -> dict[str, float]:
    """The log perplexity of ``checkpoint`` (a run's last checkpoint, or an average): ``{"test_log_ppl": ...}``."""
    nats = log_perplexity(data, checkpoint, cfg, Path(work_dir) / f"eval-lm-{cfg.subset}.txt")
    return {cfg.metric: nats}


def main(argv: list[str] | None = None) -> None:
    cli(argv, __doc__, evaluate, LMEvalConfig)


if __name__ == "__main__":
    main()
