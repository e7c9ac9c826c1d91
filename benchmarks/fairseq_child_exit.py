"""Wall time of one tiny fairseq-train child as the driver starts it (fairseq_lth.driver.fairseq_program,
which skips the interpreter's teardown) against ``python -m fairseq_cli.train``, alternating, in the
same run. At test and tiny-recipe sizes a unit's children are mostly start-up and exit.

    python benchmarks/fairseq_child_exit.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from fairseq_lth.driver.processes import PLUGIN_DIR, fairseq_program

ROOT = Path(__file__).resolve().parents[1]
LM = ["--task", "lottery_language_modeling", "--arch", "lottery_lstm_wikitext2", "--decoder-embed-dim", "16"]
LM += ["--decoder-hidden-size", "16", "--tokens-per-sample", "50", "--sample-break-mode", "none"]
LM += ["--batch-size", "30", "--criterion", "cross_entropy", "--optimizer", "adam", "--lr", "2e-2"]
LM += ["--lr-scheduler", "fixed", "--max-epoch", "2", "--no-epoch-checkpoints", "--cpu", "--num-workers", "0"]


def wall(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "raw").mkdir()
        subprocess.run([sys.executable, ROOT / "recipes/tiny/toy_english.py", work / "raw", "1000"], check=True)
        subprocess.run([ROOT / "recipes/wikitext2/preprocess.sh", work / "raw", work], check=True, capture_output=True)
        sides = {"python -m fairseq_cli.train": [sys.executable, "-m", "fairseq_cli.train"]}
        sides["fairseq_program (driver)"] = fairseq_program("fairseq_cli.train")
        times = {side: [] for side in sides}
        for i in range(args.repeats):
            for side, launcher in sides.items():
                save = work / f"save_{i}_{len(times[side])}_{side[:6]}"
                times[side].append(wall([*launcher, work / "bin", "--user-dir", PLUGIN_DIR, *LM, "--save-dir", save]))
        base = statistics.median(times["python -m fairseq_cli.train"])
        for side, seconds in times.items():
            median = statistics.median(seconds)
            print(f"{side:28s} median {median:5.2f} s over {args.repeats} ({median - base:+.2f} s)")


if __name__ == "__main__":
    main()
