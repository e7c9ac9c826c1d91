"""Overhead of the fairseq_lth plugin, and the cost of one pruning step at Transformer Big size.

1. Updates per second of the real fairseq-train on the same small Transformer and data, from the
   same rewind checkpoint, in the same run: plain ``--task translation`` vs the plugin's
   ``--task lottery_translation`` holding an 80%-sparse mask (gradient masking, re-zeroing after
   every step). Runs alternate to share the machine's load; the target is at most 5% overhead.
   Whole-run timings on a shared CPU wander by several percent, so the plugin's own per-update
   work (masking the gradients, re-zeroing the weights) is also timed directly on the same model
   and reported as a fraction of a plain update.
2. Wall time of ``shared_mask.prune_global`` (rate 0.2) on transformer_vaswani_wmt_en_de_big
   with shared embeddings and a 32k joined vocabulary (about 210M parameters), level 1 and level 2.

    python benchmarks/fairseq_overhead.py [--raw DIR] [--updates 60] [--repeats 3] [--out result.json]

--raw: parallel text train.{en,de}, valid.{en,de} (default: /work/shared/data/wmt14-en-de-sample if
present, else a synthetic corpus).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

import shared_mask as sm
from fairseq_lth.driver.evaluate import EvalConfig
from fairseq_lth.driver.processes import PLUGIN_DIR
from fairseq_lth.driver.trainer import FairseqTrainer

BIN = Path(sys.executable).parent
SAMPLE = Path("/work/shared/data/wmt14-en-de-sample")
REWIND = 10
MODEL = [
    "--arch",
    "transformer",
    "--share-all-embeddings",
    "--encoder-layers",
    "2",
    "--decoder-layers",
    "2",
    "--encoder-embed-dim",
    "128",
    "--decoder-embed-dim",
    "128",
    "--encoder-ffn-embed-dim",
    "512",
    "--decoder-ffn-embed-dim",
    "512",
    "--encoder-attention-heads",
    "4",
    "--decoder-attention-heads",
    "4",
    "--optimizer",
    "adam",
    "--lr",
    "5e-4",
    "--lr-scheduler",
    "inverse_sqrt",
    "--warmup-updates",
    "100",
    "--criterion",
    "label_smoothed_cross_entropy",
    "--label-smoothing",
    "0.1",
    "--max-tokens",
    "2048",
    "--cpu",
    "--num-workers",
    "0",
    "--disable-validation",
    "--no-epoch-checkpoints",
    "--save-interval-updates",
    str(REWIND),
]


def sh(*cmd) -> str:
    result = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{cmd[0]} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result.stdout


def synthetic(raw: Path) -> None:
    rng = random.Random(0)
    words = [f"w{i}" for i in range(2000)]
    for split, n in (("train", 8000), ("valid", 50)):
        pairs = [[rng.choice(words) for _ in range(rng.randint(10, 40))] for _ in range(n)]
        (raw / f"{split}.en").write_text("".join(" ".join(p) + "\n" for p in pairs))
        (raw / f"{split}.de").write_text("".join(" ".join(reversed(p)) + "\n" for p in pairs))


def updates_per_second(log: str) -> float:
    """Mean of fairseq's per-interval ups, leaving out the first interval (start-up)."""
    ups = [float(u) for u in re.findall(r"train_inner .* ups=([\d.]+)", log)]
    if len(ups) < 2:
        sys.exit("too few log intervals to measure; raise --updates")
    return statistics.mean(ups[1:])


def overhead(work: Path, raw: Path, updates: int, repeats: int) -> dict:
    data = work / "bin"
    sh(
        BIN / "fairseq-preprocess",
        "--source-lang",
        "en",
        "--target-lang",
        "de",
        "--joined-dictionary",
        "--trainpref",
        raw / "train",
        "--validpref",
        raw / "valid",
        "--destdir",
        data,
        "--workers",
        "2",
        "--thresholdsrc",
        "2",
        "--thresholdtgt",
        "2",
    )
    dense = work / "dense"
    sh(
        BIN / "fairseq-train",
        data,
        "--user-dir",
        PLUGIN_DIR,
        "--task",
        "lottery_translation",
        *MODEL,
        "--seed",
        1,
        "--save-dir",
        dense,
        "--max-update",
        REWIND + 1,
        "--lth-rewind-updates",
        REWIND,
        "--lth-rewind-checkpoint",
        work / "rewind.pt",
    )
    builder = FairseqTrainer(str(data), MODEL, "all", EvalConfig(cpu=True))
    model = builder.load_weights(work / "rewind.pt", builder.build_model(0))
    mask = sm.prune_to_density(model, sm.Mask.dense(model, sm.prunable(model, "all")), 0.2)
    mask.save(work / "mask.safetensors")
    common = [
        *MODEL,
        "--seed",
        1,
        "--continue-once",
        work / "rewind.pt",
        "--max-update",
        REWIND + updates,
        "--log-interval",
        max(updates // 6, 1),
        "--no-save",
    ]
    runs = {"translation": [], "lottery_translation": []}
    for i in range(repeats):
        runs["translation"].append(
            updates_per_second(
                sh(
                    # --user-dir only lets torch>=2.6 load the rewind checkpoint; the task is fairseq's own.
                    BIN / "fairseq-train",
                    data,
                    "--user-dir",
                    PLUGIN_DIR,
                    "--task",
                    "translation",
                    *common,
                    "--save-dir",
                    work / f"plain{i}",
                )
            )
        )
        runs["lottery_translation"].append(
            updates_per_second(
                sh(
                    BIN / "fairseq-train",
                    data,
                    "--user-dir",
                    PLUGIN_DIR,
                    "--task",
                    "lottery_translation",
                    *common,
                    "--save-dir",
                    work / f"plugin{i}",
                    "--lth-mask",
                    work / "mask.safetensors",
                )
            )
        )
    plain, plugin = (statistics.median(runs[k]) for k in ("translation", "lottery_translation"))
    hook_seconds = enforcement_seconds(model, mask)
    return {
        "parameters": sum(p.numel() for p in model.parameters()),
        "mask_density": mask.density(),
        "updates_per_run": updates,
        "ups": runs,
        "median_ups_translation": plain,
        "median_ups_lottery_translation": plugin,
        "overhead": 1 - plugin / plain,
        "enforcement_ms_per_update": hook_seconds * 1e3,
        "enforcement_fraction": hook_seconds * plain,
    }


def enforcement_seconds(model, mask: sm.Mask, repeats: int = 50) -> float:
    """Mean time of the plugin's per-update mask work: gradients masked, then weights re-zeroed."""
    for p in model.parameters():
        p.grad = torch.randn_like(p)
    masker = sm.Masker(model, mask)  # called explicitly, as the plugin's train_step and optimizer_step do
    start = time.perf_counter()
    for _ in range(repeats):
        masker.mask_grads_()
        masker.zero_weights_()
    return (time.perf_counter() - start) / repeats


def prune_big(work: Path) -> dict:
    data = work / "big_dict"
    data.mkdir()
    for lang in ("en", "de"):  # a 32k joined vocabulary; only the dictionaries are read to build the model
        (data / f"dict.{lang}.txt").write_text("".join(f"tok{i} 1\n" for i in range(32768 - 4)))
    builder = FairseqTrainer(
        str(data),
        [
            "--arch",
            "transformer_vaswani_wmt_en_de_big",
            "--share-all-embeddings",
            "--source-lang",
            "en",
            "--target-lang",
            "de",
        ],
        "all",
        EvalConfig(),
    )
    model = builder.build_model(0)
    mask = sm.Mask.dense(model, sm.prunable(model, "all"))
    seconds = []
    for _ in range(2):
        start = time.perf_counter()
        mask = sm.prune_global(model, mask, 0.2)
        seconds.append(time.perf_counter() - start)
        mask.apply_(model)
    return {
        "parameters": mask.numel(),
        "prune_global_seconds_level1": seconds[0],
        "prune_global_seconds_level2": seconds[1],
        "density_after": mask.density(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--raw", type=Path, default=SAMPLE if SAMPLE.is_dir() else None)
    parser.add_argument("--updates", type=int, default=60)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-prune", action="store_true")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        raw = args.raw
        if raw is None:
            raw = work / "raw"
            raw.mkdir()
            synthetic(raw)
        result = {"data": str(args.raw or "synthetic"), "overhead": overhead(work, raw, args.updates, args.repeats)}
        if not args.skip_prune:
            result["prune"] = prune_big(work)
    o = result["overhead"]
    print(
        f"fairseq-train updates/s, median of {args.repeats}: translation {o['median_ups_translation']:.3f}, "
        f"lottery_translation (density {o['mask_density']:.2f}) {o['median_ups_lottery_translation']:.3f}: "
        f"overhead {o['overhead']:+.1%} (target <= 5%)"
    )
    print(
        f"the plugin's mask work per update, timed directly: {o['enforcement_ms_per_update']:.1f} ms = "
        f"{o['enforcement_fraction']:.2%} of a plain update"
    )
    if "prune" in result:
        p = result["prune"]
        print(
            f"prune_global(rate 0.2) on {p['parameters']:,} parameters (Transformer Big): "
            f"{p['prune_global_seconds_level1']:.2f} s (level 1), {p['prune_global_seconds_level2']:.2f} s (level 2)"
        )
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
