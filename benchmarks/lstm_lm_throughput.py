"""Training throughput of the plugin's LSTM language model vs fairseq's own ``lstm_lm``, same run.

Both models are built by fairseq from the same options at the paper's sizes (2 layers, embeddings
and hidden size 650, dropout 0.5, full softmax over a Wikitext-2-sized vocabulary of 33,278 words
plus fairseq's 4 special symbols): ``--arch lottery_lstm_wikitext2`` (one fused ``nn.LSTM``) and
``--arch lstm_lm`` (fairseq's ``LSTMCell`` loop over layers and time steps). Each step is a
training step on a batch of 30 x 50 tokens: forward, cross entropy, backward, Adam (lr 1e-3, eps
1e-3). After a warm-up, the models alternate in rounds (to share the machine's load) and the
median tokens per second over the rounds is reported. On a CPU the 33k-way output layer takes
most of a step (about three quarters of the arithmetic), so the run is repeated with a dictionary
of 1,000 words, where the recurrent layers dominate.

    python benchmarks/lstm_lm_throughput.py [--vocab 33278 1000] [--steps 5] [--rounds 3] [--warmup 2]
        [--device cpu] [--out result.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from fairseq import models, options, tasks
from fairseq.dataclass.utils import convert_namespace_to_omegaconf

from fairseq_lth.driver.processes import PLUGIN_DIR

WIKITEXT2_VOCAB = 33278
MODELS = {
    "lottery_lstm_wikitext2": ["--arch", "lottery_lstm_wikitext2"],
    "fairseq lstm_lm": [
        "--arch",
        "lstm_lm",
        "--decoder-layers",
        "2",
        "--decoder-embed-dim",
        "650",
        "--decoder-hidden-size",
        "650",
        "--decoder-out-embed-dim",
        "650",
        "--dropout",
        "0.5",
    ],
}


def build(data: Path, arch_args: list[str]) -> torch.nn.Module:
    parsed = options.parse_args_and_arch(
        options.get_training_parser(),
        [
            str(data),
            "--user-dir",
            PLUGIN_DIR,
            "--task",
            "language_modeling",
            "--criterion",
            "cross_entropy",
            "--tokens-per-sample",
            "50",
            *arch_args,
        ],
    )
    cfg = convert_namespace_to_omegaconf(parsed)
    return models.build_model(cfg.model, tasks.setup_task(cfg.task))


def seconds_per_step(model, optimizer, batch: torch.Tensor, target: torch.Tensor, steps: int) -> float:
    start = time.perf_counter()
    for _ in range(steps):
        logits = model(batch)[0]
        loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), target.reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    if batch.is_cuda:
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / steps


def compare(vocab: int, args: argparse.Namespace) -> dict:
    """Median training tokens/s of both models with a dictionary of ``vocab`` words."""
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "dict.txt").write_text("".join(f"w{i} 1\n" for i in range(vocab)))
        built = {name: build(Path(tmp), arch).to(args.device).train() for name, arch in MODELS.items()}
    symbols = len(built["lottery_lstm_wikitext2"].decoder.dictionary)
    tokens = torch.randint(4, symbols, (args.batch, args.bptt + 1), device=args.device)
    batch, target = tokens[:, :-1], tokens[:, 1:]
    optimizers = {
        name: torch.optim.Adam(m.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-3) for name, m in built.items()
    }
    for name, model in built.items():
        seconds_per_step(model, optimizers[name], batch, target, args.warmup)
    runs = {name: [] for name in built}
    for _ in range(args.rounds):
        for name, model in built.items():
            runs[name].append(batch.numel() / seconds_per_step(model, optimizers[name], batch, target, args.steps))
    return {
        "vocab": symbols,
        "models": {
            name: {
                "parameters": sum(p.numel() for p in built[name].parameters()),
                "tokens_per_second": runs[name],
                "median_tokens_per_second": statistics.median(runs[name]),
            }
            for name in built
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--vocab",
        type=int,
        nargs="+",
        default=[WIKITEXT2_VOCAB, 1000],
        help="dictionary sizes to measure (default: Wikitext-2's, then 1000, where the recurrent "
        "layers rather than the output layer take most of the time)",
    )
    parser.add_argument("--batch", type=int, default=30)
    parser.add_argument("--bptt", type=int, default=50)
    parser.add_argument("--steps", type=int, default=5, help="timed training steps per model and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps per model first")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    torch.manual_seed(0)
    result = {
        "device": args.device,
        "threads": torch.get_num_threads(),
        "batch": args.batch,
        "bptt": args.bptt,
        "steps_per_round": args.steps,
        "rounds": args.rounds,
        "runs": [compare(v, args) for v in args.vocab],
    }
    print(
        f"training steps (forward, backward, Adam) on {args.batch} x {args.bptt} tokens, {args.device} "
        f"({result['threads']} threads); median of {args.rounds} rounds of {args.steps} steps"
    )
    print(f"{'vocabulary':>10}  {'model':<24} {'parameters':>12} {'tokens/s':>10} {'s/step':>8}  speed-up")
    for run in result["runs"]:
        ours, theirs = (run["models"][name]["median_tokens_per_second"] for name in MODELS)
        for name, entry in run["models"].items():
            tps = entry["median_tokens_per_second"]
            speed_up = f"{ours / theirs:.2f}x" if name == "lottery_lstm_wikitext2" else ""
            print(
                f"{run['vocab']:>10,}  {name:<24} {entry['parameters']:>12,} {tps:>10,.0f} "
                f"{args.batch * args.bptt / tps:>8.2f}  {speed_up}"
            )
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
