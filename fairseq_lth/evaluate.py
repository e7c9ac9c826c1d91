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
from dataclasses import asdict, dataclass
from pathlib import Path

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


def evaluate(data: str, save_dir: str | os.PathLike, cfg: EvalConfig, work_dir: str | os.PathLike) -> dict[str, float]:
    """Average the last checkpoints of ``save_dir``, translate, and return ``{"bleu": ...}``."""
    work_dir = Path(work_dir)
    averaged = average_checkpoints(last_checkpoints(save_dir, cfg.average_last), work_dir / "averaged.pt")
    try:
        hyps, refs = generate(data, averaged, cfg, work_dir / f"generate-{cfg.subset}.txt")
    finally:
        averaged.unlink(missing_ok=True)
    return {"bleu": tokenized_bleu(hyps, refs, cfg.compound_split)}


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


def add_eval_args(parser: argparse.ArgumentParser) -> None:
    defaults = EvalConfig()
    parser.add_argument("--average-last", type=int, default=defaults.average_last,
                        help="average the last K checkpoints before translating")
    parser.add_argument("--gen-subset", dest="subset", default=defaults.subset)
    parser.add_argument("--beam", type=int, default=defaults.beam)
    parser.add_argument("--lenpen", type=float, default=defaults.lenpen)
    parser.add_argument("--max-tokens-generate", dest="max_tokens", type=int, default=defaults.max_tokens)
    parser.add_argument("--remove-bpe", default=defaults.remove_bpe)
    parser.add_argument("--compound-split", action="store_true",
                        help="split hyphenated compounds before scoring (fairseq's WMT'14 En-De BLEU)")
    parser.add_argument("--cpu", action="store_true", help="translate on the CPU")


def eval_config(args: argparse.Namespace) -> EvalConfig:
    return EvalConfig(**{k: getattr(args, k) for k in asdict(EvalConfig())})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("save_dir", help="a fairseq-train --save-dir")
    parser.add_argument("--data", required=True, help="the binarized data directory")
    parser.add_argument("--out", help="write the metrics here as JSON")
    add_eval_args(parser)
    args = parser.parse_args(argv)
    metrics = evaluate(args.data, args.save_dir, eval_config(args), Path(args.save_dir))
    print(json.dumps(metrics))
    if args.out:
        write_json(args.out, metrics)


if __name__ == "__main__":
    main()
