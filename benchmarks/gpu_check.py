"""The checks that need a GPU, in one call: figures in a JSON file and a one-line verdict per check.

    python benchmarks/gpu_check.py --out gpu_check.json [--work DIR] [--checks NAME ...]

Checks (each skipped with its reason where the machine cannot run it):

- ``prune``: exact global pruning on cuda at 58M and 210M parameters vs ``torch.nn.utils.prune`` and one
  read pass, in the same run (benchmarks/prune_global.py); passes at >= 2x torch prune, <= 1.5x the
  weights' bytes of extra device memory, the same masks as on the CPU and masks on the weights' device;
- ``fairseq_fp16``: a tiny translation lottery with ``--fp16`` on one GPU whose every rank checks after
  every update that pruned entries are zero in its fp16 weights, fp32 master copy and optimizer state
  (``--verify-masks``), then the same lottery killed in its dense unit and rerun: same masks and scores;
- ``fairseq_two_gpus``: that lottery data-parallel on two GPUs (fairseq's spawn, nccl), if there are two;
- ``atari``: the ELF trainer's steps/s on cuda vs raw envpool stepping on the same machine;
- ``rl_shared_gpu``: a CartPole lottery whose units share one GPU through ``--gpus-per-unit 0.25``.

Meant for a GPU machine with the repository, a CUDA torch and no package registry (see
``benchmarks/gpu_check.sh``); on a machine without CUDA every check is skipped and the JSON says so.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(HERE)]

import torch  # noqa: E402

FAIRSEQ_MODEL = [
    "--arch",
    "transformer",
    "--share-all-embeddings",
    "--encoder-layers",
    "1",
    "--decoder-layers",
    "1",
    "--encoder-embed-dim",
    "64",
    "--decoder-embed-dim",
    "64",
    "--encoder-ffn-embed-dim",
    "128",
    "--decoder-ffn-embed-dim",
    "128",
    "--encoder-attention-heads",
    "2",
    "--decoder-attention-heads",
    "2",
    "--optimizer",
    "adam",
    "--lr",
    "1e-3",
    "--lr-scheduler",
    "inverse_sqrt",
    "--warmup-updates",
    "10",
    "--max-tokens",
    "1000",
    "--num-workers",
    "0",
    "--disable-validation",
    "--no-epoch-checkpoints",
    "--log-interval",
    "1",
    "--save-interval-updates",
    "4",
    "--max-update",
    "24",
    "--fp16",
]


def python(*args: str, log: Path | None = None, check: bool = True) -> subprocess.CompletedProcess:
    """Run a Python module or script of the project with this interpreter (no console scripts needed)."""
    result = subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=ROOT)
    if log is not None:
        log.write_text(result.stdout + result.stderr)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:2])} failed: {(result.stdout + result.stderr).strip().splitlines()[-1:]}")
    return result


def check_prune(work: Path) -> dict:
    import prune_global

    figures = [prune_global.run(size, torch.device("cuda"), 0.2, 2, skip_torch=False) for size in ("58M", "210M")]
    ok = all(
        f["speedup_over_torch_prune"] >= 2
        and f["peak_extra_bytes"] <= 1.5 * f["param_bytes"]
        and f["same_masks_as_cpu"]
        and f["masks_on_weights_device"]
        for f in figures
    )
    verdict = "; ".join(
        f"{f['size']}: {f['seconds_per_step']:.3f} s/step, {f['speedup_over_torch_prune']:.1f}x torch "
        f"prune, {f['ratio_to_read_pass']:.1f}x a read pass, extra {f['peak_extra_bytes'] / f['param_bytes']:.2f}x "
        f"the weights, same masks as CPU {f['same_masks_as_cpu']}"
        for f in figures
    )
    return {"ok": ok, "verdict": verdict, "figures": figures}


def translation_data(work: Path) -> Path:
    """A synthetic translation corpus (reverse and upper-case), binarized by fairseq-preprocess."""
    raw, rng = work / "raw", random.Random(0)
    raw.mkdir(parents=True, exist_ok=True)
    words = [f"w{i}" for i in range(200)]
    for split, n in (("train", 3000), ("valid", 50), ("test", 50)):
        pairs = [[rng.choice(words) for _ in range(rng.randint(4, 12))] for _ in range(n)]
        (raw / f"{split}.src").write_text("".join(" ".join(p) + "\n" for p in pairs))
        (raw / f"{split}.tgt").write_text("".join(" ".join(w.upper() for w in reversed(p)) + "\n" for p in pairs))
    python(
        "-m",
        "fairseq_cli.preprocess",
        "--source-lang",
        "src",
        "--target-lang",
        "tgt",
        "--joined-dictionary",
        *[a for s in ("train", "valid", "test") for a in (f"--{s}pref", str(raw / s))],
        "--destdir",
        str(work / "bin"),
        "--workers",
        "4",
    )
    return work / "bin"


def lottery_command(data: Path, out: Path, *extra: str) -> list[str]:
    return [
        "-m",
        "fairseq_lth.driver.imp",
        "--data",
        str(data),
        "--out",
        str(out),
        "--levels",
        "2",
        "--seeds",
        "0",
        "--tickets",
        "winning",
        "random_mask",
        "--rewind",
        "4it",
        "--average-last",
        "1",
        "--beam",
        "1",
        "--no-progress",
        "--verify-masks",
        "--keep-checkpoints",
        "--",
        *FAIRSEQ_MODEL,
        *extra,
    ]


def same_lottery(a: Path, b: Path) -> bool:
    import shared_mask as sm

    masks = sorted(p.relative_to(a) for p in a.glob("seed_*/level_*/mask.safetensors"))
    return (
        bool(masks)
        and all(sm.Mask.load(a / m) == sm.Mask.load(b / m) for m in masks)
        and (a / "results.csv").read_text() == (b / "results.csv").read_text()
    )


def updates_checked(out: Path) -> int:
    """Rank-updates checked by --verify-masks over every unit (a stray pruned entry stops its unit)."""
    return sum(json.loads(p.read_text())["updates_checked"] for p in out.rglob("lth_verify.rank*.json"))


def check_fairseq_fp16(work: Path) -> dict:
    data = translation_data(work)
    started = time.perf_counter()
    python(*lottery_command(data, work / "fp16"), log=work / "fp16.log")
    seconds = time.perf_counter() - started
    killed = work / "fp16_killed"
    driver = subprocess.Popen(
        [sys.executable, *lottery_command(data, killed)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    checkpoint = killed / "seed_0" / "level_00" / "dense" / "checkpoints" / "checkpoint_8.pt"
    while not checkpoint.exists() and driver.poll() is None:
        time.sleep(0.05)
    driver.kill()
    driver.wait()
    python(*lottery_command(data, killed), log=work / "fp16_resumed.log")
    same, checked = same_lottery(work / "fp16", killed), updates_checked(work / "fp16")
    return {
        "ok": same and checked > 0,
        "verdict": f"dense + 2 levels x 2 tickets with --fp16 in {seconds:.0f} s, pruned entries zero in fp16 "
        f"weights, fp32 master and Adam state after each of {checked} updates; killed at update 8 "
        f"and rerun: same masks and BLEU {same}",
        "figures": {"seconds": seconds, "updates_checked": checked, "same_after_resume": same},
    }


def check_fairseq_two_gpus(work: Path) -> dict:
    data = translation_data(work)
    out = work / "two_gpus"
    python(*lottery_command(data, out, "--distributed-world-size", "2"), log=work / "two_gpus.log")
    checked = updates_checked(out)
    return {
        "ok": checked > 0,
        "verdict": f"data-parallel lottery on 2 GPUs finished, {checked} rank-updates checked",
        "figures": {"rank_updates_checked": checked},
    }


def check_atari(work: Path) -> dict:
    import atari_throughput

    from rl_lth.presets import preset

    settings = preset("Breakout-v5", "paper").settings
    raw = atari_throughput.raw_steps_per_second("Breakout-v5", settings, 5.0)
    trainer = atari_throughput.trainer_steps_per_second("Breakout-v5", settings, 100, torch.device("cuda"))
    return {
        "ok": trainer > 0,
        "verdict": f"ELF on cuda {trainer:,.0f} steps/s vs raw envpool {raw:,.0f} ({trainer / raw:.1%})",
        "figures": {"trainer_steps_per_second": trainer, "raw_steps_per_second": raw},
    }


def check_rl_shared_gpu(work: Path) -> dict:
    out = work / "cartpole"
    started = time.perf_counter()
    python(
        "-m",
        "rl_lth.cli",
        "run",
        "--env",
        "CartPole-v0",
        "--out",
        str(out),
        "--levels",
        "2",
        "--seeds",
        "0",
        "1",
        "--epochs",
        "1",
        "--batches-per-epoch",
        "30",
        "--last-episodes",
        "5",
        "--device",
        "cuda",
        "--workers",
        "4",
        "--gpus-per-unit",
        "0.25",
        "--no-progress",
        log=work / "cartpole.log",
    )
    done = len(list(out.glob("seed_*/level_*/*/metrics.json")))
    return {
        "ok": done == 10,
        "verdict": f"{done} of 10 units on one GPU at 0.25 each in {time.perf_counter() - started:.0f} s",
        "figures": {"units_done": done},
    }


CHECKS: dict[str, tuple[Callable[[Path], dict], int]] = {  # name -> (check, GPUs it needs)
    "prune": (check_prune, 1),
    "fairseq_fp16": (check_fairseq_fp16, 1),
    "fairseq_two_gpus": (check_fairseq_two_gpus, 2),
    "atari": (check_atari, 1),
    "rl_shared_gpu": (check_rl_shared_gpu, 1),
}


def run_checks(names: list[str], work: Path) -> dict:
    gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
    device = torch.cuda.get_device_name(0) if gpus else None
    report = {
        "device": device,
        "gpus": gpus,
        "torch": torch.__version__,
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "checks": {},
    }
    for name in names:
        check, needed = CHECKS[name]
        if gpus < needed:
            result = {"status": "skipped", "verdict": f"needs {needed} CUDA device{'s' * (needed > 1)}, found {gpus}"}
        else:
            started = time.perf_counter()
            try:
                outcome = check(work / name)
                result = {
                    "status": "pass" if outcome["ok"] else "fail",
                    "verdict": outcome["verdict"],
                    "figures": outcome["figures"],
                }
            except Exception as error:  # a check that breaks is a failed check, the others still run
                result = {"status": "fail", "verdict": f"{type(error).__name__}: {error}"}
            result["seconds"] = round(time.perf_counter() - started, 1)
        report["checks"][name] = result
        print(f"{name}: {result['status'].upper()}: {result['verdict']}", flush=True)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="JSON file of the figures and verdicts")
    parser.add_argument("--work", type=Path, help="folder for data and runs (default: a temporary one)")
    parser.add_argument(
        "--checks",
        nargs="+",
        default=list(CHECKS),
        choices=list(CHECKS),
        metavar="NAME",
        help=f"checks to run (default: all): {', '.join(CHECKS)}",
    )
    args = parser.parse_args(argv)
    if args.out.is_dir() or not args.out.parent.is_dir():
        parser.error(f"--out {args.out}: expected a file in an existing folder")
    with tempfile.TemporaryDirectory() as scratch:
        report = run_checks(args.checks, args.work or Path(scratch))
    tmp = args.out.with_name(f".{args.out.name}.tmp{os.getpid()}")
    tmp.write_text(json.dumps(report, indent=2) + "\n")
    os.replace(tmp, args.out)
    failed = [n for n, r in report["checks"].items() if r["status"] == "fail"]
    print(
        f"gpu_check: {len(report['checks']) - len(failed)} of {len(report['checks'])} checks passed or skipped"
        + (f"; failed: {', '.join(failed)}" if failed else "")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
