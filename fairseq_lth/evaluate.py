"""Evaluate a fairseq translation run: average its last checkpoints, translate, score tokenized BLEU.

The score is the paper's (and fairseq's WMT'14 recipe's): case-sensitive BLEU on the tokenized,
BPE-removed output and reference (as multi-bleu.perl), optionally after splitting hyphenated
compounds (``a-b`` -> ``a ##AT##-##AT## b``, fairseq's compound_split_bleu.sh).

    python -m fairseq_lth.evaluate SAVE_DIR --data DATA [--average-last 5] [--compound-split] [--out metrics.json]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import ClassVar, Iterator

import sacrebleu
import torch
from fairseq.data import data_utils
from fairseq.data.indexed_dataset import MMapIndexedDataset

from shared_mask.files import atomic_write, write_json

from .checkpoint_compat import load_checkpoint

PLUGIN_DIR = str(Path(__file__).resolve().parent)
_INTERVAL = re.compile(r"^checkpoint_\d+_(\d+)\.pt$")
_EPOCH = re.compile(r"^checkpoint(\d+)\.pt$")
_COMPOUND = re.compile(r"(\S)-(\S)")


@dataclass
class EvalConfig:
    """How a trained run is scored (the defaults are Vaswani et al.'s and fairseq's WMT'14 settings)."""

    metric: ClassVar[str] = "bleu"
    higher_is_better: ClassVar[bool] = True

    average_last: int = 5
    subset: str = "test"
    beam: int = 4
    lenpen: float = 0.6
    max_tokens: int = 8000
    remove_bpe: str = "subword_nmt"
    compound_split: bool = False
    cpu: bool = False


def last_checkpoints(save_dir: str | os.PathLike, k: int) -> list[Path]:
    """The ``k`` latest of the update (checkpoint_E_U.pt) and epoch (checkpointE.pt) checkpoints, by update
    count, else checkpoint_last.pt.

    fairseq writes no update checkpoint at the end of an epoch, so with --no-epoch-checkpoints the
    latest update checkpoints can skip saves and reach far back: keep epoch checkpoints (bounded by
    --keep-last-epochs) when averaging.
    """
    save_dir = Path(save_dir)
    if k < 1:
        raise ValueError(f"the number of checkpoints to average must be at least 1, got {k}")
    found = []
    for path in save_dir.glob("checkpoint*.pt"):
        if m := _INTERVAL.match(path.name):
            found.append((int(m.group(1)), path))
        elif _EPOCH.match(path.name):
            found.append((load_checkpoint(path, mmap=True)["optimizer_history"][-1]["num_updates"], path))
    if found:
        return [p for _, p in sorted(found, reverse=True)[:k]]
    last = save_dir / "checkpoint_last.pt"
    if not last.is_file():
        raise FileNotFoundError(f"no checkpoint in {save_dir}")
    return [last]


def model_checkpoint(path: str | os.PathLike, out: str | os.PathLike) -> Path:
    """Write ``path`` without its optimizer state: the weights, loadable by fairseq-generate."""
    state = load_checkpoint(path)
    state["last_optimizer_state"] = None
    atomic_write(out, lambda tmp: torch.save(state, tmp))
    return Path(out)


def average_checkpoints(paths: list[Path], out: str | os.PathLike) -> Path:
    """Average the weights of ``paths`` (in float64) into a checkpoint at ``out`` without optimizer state.

    Entries that are zero in every input stay exactly zero, so an averaged ticket is as sparse as its
    checkpoints.
    """
    total, state = None, None
    for path in paths:
        state = load_checkpoint(path)
        model = state["model"]
        if total is None:
            total = {k: v.double() if v.is_floating_point() else v for k, v in model.items()}
        else:
            if model.keys() != total.keys():
                raise ValueError(f"{path} holds other parameters than {paths[0]}")
            for k, v in model.items():
                if v.is_floating_point():
                    total[k] += v.double()
    state["model"] = {k: (v / len(paths)).to(state["model"][k].dtype) if v.is_floating_point() else v
                      for k, v in total.items()}
    state["last_optimizer_state"] = None
    atomic_write(out, lambda tmp: torch.save(state, tmp))
    return Path(out)


def generate(data: str, checkpoint: str | os.PathLike, cfg: EvalConfig, log: Path) -> tuple[list[str], list[str]]:
    """Translate ``cfg.subset`` with the real fairseq-generate; return hypotheses and references in order."""
    task = load_checkpoint(checkpoint, mmap=True)["cfg"]["task"]
    src, tgt = task.get("source_lang"), task.get("target_lang")
    if src is None or tgt is None:
        src, tgt = data_utils.infer_language_pair(data)
    expected = len(MMapIndexedDataset(os.path.join(data, f"{cfg.subset}.{src}-{tgt}.{tgt}")))
    # --required-batch-size-multiple 1: with fairseq's default of 8 the last partial batch can be dropped.
    cmd = [sys.executable, "-m", "fairseq_cli.generate", data, "--user-dir", PLUGIN_DIR, "--path", str(checkpoint),
           "--source-lang", src, "--target-lang", tgt, "--gen-subset", cfg.subset, "--beam", str(cfg.beam),
           "--lenpen", str(cfg.lenpen), "--max-tokens", str(cfg.max_tokens), "--required-batch-size-multiple", "1",
           "--remove-bpe", cfg.remove_bpe]
    if cfg.cpu:
        cmd.append("--cpu")
    out = run_logged(cmd, log)
    hyps, refs = {}, {}
    for line in out.splitlines():
        if line.startswith("H-"):
            key, _, text = line.split("\t", 2)
            hyps[int(key[2:])] = text
        elif line.startswith("T-"):
            key, text = (line.split("\t", 1) + [""])[:2]
            refs[int(key[2:])] = text
    if hyps.keys() != refs.keys() or len(refs) != expected:
        raise RuntimeError(f"fairseq-generate translated {len(hyps)} of the {expected} sentences of "
                           f"{cfg.subset}; see {log}")
    order = sorted(refs)
    return [hyps[i] for i in order], [refs[i] for i in order]


def tokenized_bleu(hyps: list[str], refs: list[str], compound_split: bool = False) -> float:
    """Case-sensitive BLEU of already tokenized text (multi-bleu.perl), optionally compound-split."""
    if compound_split:
        hyps = [_COMPOUND.sub(r"\1 ##AT##-##AT## \2", h) for h in hyps]
        refs = [_COMPOUND.sub(r"\1 ##AT##-##AT## \2", r) for r in refs]
    return sacrebleu.corpus_bleu(hyps, [refs], tokenize="none", force=True).score


@contextmanager
def averaged_checkpoint(save_dir: str | os.PathLike, k: int, work_dir: str | os.PathLike) -> Iterator[Path]:
    """The average of the last ``k`` checkpoints of ``save_dir``, as a file in ``work_dir`` removed afterwards."""
    averaged = average_checkpoints(last_checkpoints(save_dir, k), Path(work_dir) / "averaged.pt")
    try:
        yield averaged
    finally:
        averaged.unlink(missing_ok=True)


def evaluate(data: str, save_dir: str | os.PathLike, cfg: EvalConfig, work_dir: str | os.PathLike) -> dict[str, float]:
    """Average the last checkpoints of ``save_dir``, translate, and return ``{"bleu": ...}``."""
    with averaged_checkpoint(save_dir, cfg.average_last, work_dir) as averaged:
        hyps, refs = generate(data, averaged, cfg, Path(work_dir) / f"generate-{cfg.subset}.txt")
    return {cfg.metric: tokenized_bleu(hyps, refs, cfg.compound_split)}


def run_logged(cmd: list[str], log: Path) -> str:
    """Run ``cmd`` and return its standard output; keep stdout and stderr in ``log``; on failure raise
    with the log's tail."""
    log.parent.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(cmd, capture_output=True, text=True)
    log.write_text(result.stdout + result.stderr)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).splitlines()[-25:])
        raise RuntimeError(f"{' '.join(cmd[:3])} failed (exit {result.returncode}); log {log}:\n{tail}")
    return result.stdout


def add_eval_args(parser: argparse.ArgumentParser, translation: bool = True) -> None:
    """Scoring options; those left out are None, so the task's config keeps its default (see eval_config)."""
    group = parser.add_argument_group("scoring")
    group.add_argument("--average-last", type=int, metavar="K",
                       help="average the last K checkpoints before scoring (default: 5 for translation, 1 for "
                            "language models)")
    group.add_argument("--gen-subset", dest="subset", help="the subset to score (default: test)")
    group.add_argument("--max-tokens-eval", "--max-tokens-generate", dest="max_tokens", type=int,
                       help="tokens per batch when scoring (default: 8000 for translation, 4000 for language models)")
    group.add_argument("--cpu", action="store_true", default=None, help="score on the CPU")
    if not translation:
        return
    defaults = EvalConfig()
    group = parser.add_argument_group("translation scoring")
    group.add_argument("--beam", type=int, help=f"beam size (default: {defaults.beam})")
    group.add_argument("--lenpen", type=float, help=f"length penalty (default: {defaults.lenpen})")
    group.add_argument("--remove-bpe", help=f"BPE marker to remove before scoring (default: {defaults.remove_bpe})")
    group.add_argument("--compound-split", action="store_true", default=None,
                       help="split hyphenated compounds before scoring (fairseq's WMT'14 En-De BLEU)")


def eval_config(args: argparse.Namespace, cls: type = EvalConfig):
    """The scoring config ``cls`` from options of :func:`add_eval_args`: unset options keep ``cls``'s defaults,
    options ``cls`` has no use for are an error."""
    given = {f.name: getattr(args, f.name) for f in fields(EvalConfig) if getattr(args, f.name, None) is not None}
    wanted = {f.name for f in fields(cls)}
    stray = [name for name in given if name not in wanted]
    if stray:
        raise ValueError(f"{', '.join('--' + n.replace('_', '-') for n in stray)}: translation scoring options, "
                         f"unused by {cls.__name__}")
    return cls(**given)


def cli(argv: list[str] | None, doc: str, score, cls: type) -> None:
    """The command line of a scoring module: ``score(data, save_dir, cls(...), work_dir)`` on a save dir."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("save_dir", help="a fairseq-train --save-dir")
    parser.add_argument("--data", required=True, help="the binarized data directory")
    parser.add_argument("--out", help="write the metrics here as JSON")
    add_eval_args(parser, translation=cls is EvalConfig)
    args = parser.parse_args(argv)
    metrics = score(args.data, args.save_dir, eval_config(args, cls), Path(args.save_dir))
    print(json.dumps(metrics))
    if args.out:
        write_json(args.out, metrics)


def main(argv: list[str] | None = None) -> None:
    cli(argv, __doc__, evaluate, EvalConfig)


if __name__ == "__main__":
    main()
