"""Evaluate a fairseq translation run: average its last checkpoints, translate, score tokenized BLEU.

The score is the paper's (and fairseq's WMT'14 recipe's): case-sensitive BLEU on the tokenized,
BPE-removed output and reference (as multi-bleu.perl), optionally after splitting hyphenated
compounds (``a-b`` -> ``a ##AT##-##AT## b``, fairseq's compound_split_bleu.sh).

    python -m fairseq_lth.driver.evaluate SAVE_DIR --data DATA [--average-last 5] [--compound-split] \\
        [--out metrics.json]
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import sacrebleu
from fairseq.data import data_utils
from fairseq.data.indexed_dataset import MMapIndexedDataset

from ..plugin.checkpoint_compat import load_checkpoint
from .processes import PLUGIN_DIR, fairseq_program, run_logged
from .scoring import EvalConfig
from .scoring_cli import cli

_COMPOUND = re.compile(r"(\S)-(\S)")


def generate(data: str, checkpoint: str | os.PathLike, cfg: EvalConfig, log: Path) -> tuple[list[str], list[str]]:
    """Translate ``cfg.subset`` with the real fairseq-generate; return hypotheses and references in order."""
    task = load_checkpoint(checkpoint, mmap=True)["cfg"]["task"]
    src, tgt = task.get("source_lang"), task.get("target_lang")
    if src is None or tgt is None:
        src, tgt = data_utils.infer_language_pair(data)
    expected = len(MMapIndexedDataset(os.path.join(data, f"{cfg.subset}.{src}-{tgt}.{tgt}")))
    # --required-batch-size-multiple 1: with fairseq's default of 8 the last partial batch can be dropped.
    cmd = [
        *fairseq_program("fairseq_cli.generate"),
        data,
        "--user-dir",
        PLUGIN_DIR,
        "--path",
        str(checkpoint),
        "--source-lang",
        src,
        "--target-lang",
        tgt,
        "--gen-subset",
        cfg.subset,
        "--beam",
        str(cfg.beam),
        "--lenpen",
        str(cfg.lenpen),
        "--max-tokens",
        str(cfg.max_tokens),
        "--required-batch-size-multiple",
        "1",
        "--remove-bpe",
        cfg.remove_bpe,
    ]
    if cfg.cpu:
        cmd.append("--cpu")
    hyps, refs = {}, {}

    def collect(line: str) -> None:
        if line.startswith("H-"):
            key, _, text = line.split("\t", 2)
            hyps[int(key[2:])] = text
        elif line.startswith("T-"):
            key, text = (line.split("\t", 1) + [""])[:2]
            refs[int(key[2:])] = text

    run_logged("fairseq-generate", cmd, log, on_line=collect)
    if hyps.keys() != refs.keys() or len(refs) != expected:
        raise RuntimeError(
            f"fairseq-generate translated {len(hyps)} of the {expected} sentences of {cfg.subset}; see {log}"
        )
    order = sorted(refs)
    return [hyps[i] for i in order], [refs[i] for i in order]


def tokenized_bleu(hyps: list[str], refs: list[str], compound_split: bool = False) -> float:
    """Case-sensitive BLEU of already tokenized text (multi-bleu.perl), optionally compound-split."""
    if compound_split:
        hyps = [_COMPOUND.sub(r"\1 ##AT##-##AT## \2", h) for h in hyps]
        refs = [_COMPOUND.sub(r"\1 ##AT##-##AT## \2", r) for r in refs]
    return sacrebleu.corpus_bleu(hyps, [refs], tokenize="none", force=True).score


def evaluate(
    data: str, checkpoint: str | os.PathLike, cfg: EvalConfig, work_dir: str | os.PathLike
) -> dict[str, float]:
    """Translate with ``checkpoint`` (the average of a run's last checkpoints) and return ``{"bleu": ...}``."""
    hyps, refs = generate(data, checkpoint, cfg, Path(work_dir) / f"generate-{cfg.subset}.txt")
    return {cfg.metric: tokenized_bleu(hyps, refs, cfg.compound_split)}


def main(argv: list[str] | None = None) -> None:
    cli(argv, __doc__, evaluate, EvalConfig)


if __name__ == "__main__":
    main()
