"""Exported sparse tickets vs the dense masked models: file size and CPU inference speed, same run.

For each pruning level (default 7, 10, 13, 20 at rate 0.2: 79%, 89%, 94.5%, 98.8% pruned) a unit
folder is written as the lottery loop leaves it (final weights, the level's mask, metrics.json,
config.json), exported with ``shared_mask.export.export`` and loaded back with
``shared_mask.export.load`` (kernels chosen per tensor by the probe). Baselines are the same
masked weights in the dense models.

- LSTM LM: the paper's ``lottery_lstm_wikitext2`` (2 x 650 LSTM) with Wikitext-2's 33,278 words,
  built by fairseq; a test-perplexity pass over ``--blocks`` blocks of 50 tokens in batches of
  ``--batch`` blocks (fairseq-eval-lm's 4,000 tokens): the fairseq model + cross entropy vs
  :class:`fairseq_lth.export.SparseLSTMLM`; the two log perplexities must agree.
- RL: the CartPole actor-critic (width 128) acting in 32 envpool environments (A2C's batch):
  environment steps per second with sampling, ``--act-steps`` steps per timing.

The tickets are the initial weights pruned one-shot to each level's density by global magnitude
(no Wikitext-2 or training here), so per-tensor densities are more even than a trained ticket's;
speeds depend on them, sizes barely. Timings alternate the two models ``--rounds`` times after a
warm-up and report medians, on ``--threads`` torch threads (default 1, the probe's too).

    python benchmarks/sparse_inference.py [--levels 7 10 13 20] [--rounds 3] [--blocks 160] [--batch 80]
        [--act-steps 2000] [--threads 1] [--only lm|rl] [--out result.json]
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import tempfile
import time
from pathlib import Path

import envpool
import torch
import torch.nn.functional as F
from safetensors.torch import save_file

import shared_mask as sm
import shared_mask.export as sx
from fairseq_lth.driver.evaluate_lm import LMEvalConfig
from fairseq_lth.driver.trainer import FairseqTrainer
from rl_lth.network import ActorCritic

WIKITEXT2_VOCAB = 33278
RATE = 0.2
TOKENS_PER_BLOCK = 50
LM_ARGS = ["--arch", "lottery_lstm_wikitext2", "--tokens-per-sample", str(TOKENS_PER_BLOCK)]
RL_ENV, RL_ENVS, RL_WIDTH = "CartPole-v1", 32, 128


def write_unit(run: Path, level: int, trainer_config: dict, mask: sm.Mask, save) -> Path:
    """RUN/seed_0/level_<kk>/winning as the lottery loop leaves it; ``save(path)`` writes the final weights."""
    unit = run / "seed_0" / f"level_{level:02d}" / "winning"
    unit.mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({"lottery": {"rate": RATE}, "trainer": trainer_config}))
    mask.save(unit.parent / "mask.safetensors")
    save(unit)
    density = mask.density()
    (unit / "metrics.json").write_text(
        json.dumps(
            {
                "seed": 0,
                "level": level,
                "ticket": "winning",
                "density": density,
                "fraction_pruned": 1 - density,
                "metrics": {},
            }
        )
    )
    return unit


def timed(runs: dict, rounds: int) -> dict[str, float]:
    """Median seconds of the "dense" and "sparse" callables over ``rounds`` alternating rounds after a warm-up,
    and "speedup": the median of the rounds' dense / sparse ratios (each round's pair shares the machine's load)."""
    for run in runs.values():
        run()
    times = {name: [] for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    return {
        **{name: statistics.median(t) for name, t in times.items()},
        "speedup": statistics.median(d / s for d, s in zip(times["dense"], times["sparse"])),
    }


def lm_rows(args, work: Path) -> list[dict]:
    (work / "dict.txt").write_text("".join(f"w{i} 1\n" for i in range(WIKITEXT2_VOCAB)))
    trainer = FairseqTrainer(str(work), LM_ARGS, "all", LMEvalConfig(cpu=True), task="lottery_language_modeling")
    init = trainer.build_model(0).eval()
    dense_mask = sm.Mask.dense(init, sm.prunable(init, "all"))
    symbols = len(init.decoder.dictionary)
    tokens = torch.randint(4, symbols, (args.blocks, TOKENS_PER_BLOCK + 1), generator=torch.Generator().manual_seed(0))
    batches = [(b[:, :-1], b[:, 1:]) for b in tokens.split(args.batch)]
    rows = []
    for level in args.levels:
        model = trainer.build_model(0).eval()
        mask = sm.prune_to_density(model, dense_mask, (1 - RATE) ** level)
        mask.apply_(model)
        unit = write_unit(
            work / f"lm_{level}",
            level,
            trainer.config(),
            mask,
            lambda unit: trainer.save_weights(model, unit / "final.pt"),
        )
        exported = sx.export(unit, work / f"lm_{level}.safetensors")
        sparse = sx.load(exported.path, batch=args.batch)
        nll = {}

        def dense_pass():
            total = 0.0
            for source, target in batches:
                logits = model(source)[0]
                total += F.cross_entropy(logits.reshape(-1, symbols), target.reshape(-1), reduction="sum").item()
            nll["dense"] = total / target_count

        def sparse_pass():
            nll["sparse"] = sum(sparse.nll(source, target).item() for source, target in batches) / target_count

        target_count = tokens[:, 1:].numel()
        with torch.no_grad():
            seconds = timed({"dense": dense_pass, "sparse": sparse_pass}, args.rounds)
        rows.append(
            row(
                "LSTM LM test pass",
                level,
                mask,
                exported,
                seconds,
                target_count,
                "tokens/s",
                f"log ppl {nll['dense']:.6f} / {nll['sparse']:.6f}",
            )
        )
        if not math.isclose(nll["dense"], nll["sparse"], rel_tol=1e-5):
            raise AssertionError(f"level {level}: log perplexity {nll['sparse']} differs from the dense {nll['dense']}")
    return rows


def rl_rows(args, work: Path) -> list[dict]:
    env = envpool.make(RL_ENV, env_type="gymnasium", num_envs=RL_ENVS, seed=0, num_threads=1)
    trainer_config = {
        "experiment": RL_ENV,
        "metric": "ticket_reward",
        "algo": "a2c",
        "width": RL_WIDTH,
        "num_envs": RL_ENVS,
    }
    rows = []
    for level in args.levels:
        model = ActorCritic(env.observation_space.shape[0], env.action_space.n, RL_WIDTH, seed=0).eval()
        mask = sm.prune_to_density(model, sm.Mask.dense(model), (1 - RATE) ** level)
        mask.apply_(model)
        unit = write_unit(
            work / f"rl_{level}",
            level,
            trainer_config,
            mask,
            lambda unit: save_file(
                {k: v.contiguous() for k, v in model.state_dict().items()}, str(unit / "final.safetensors")
            ),
        )
        exported = sx.export(unit, work / f"rl_{level}.safetensors")
        sparse = sx.load(exported.path)
        obs = torch.randn(RL_ENVS, env.observation_space.shape[0])
        with torch.no_grad():
            seconds = timed(
                {"dense": lambda: act(model, env, args.act_steps), "sparse": lambda: act(sparse, env, args.act_steps)},
                args.rounds,
            )
            alone = timed(
                {
                    "dense": lambda: repeat(model.logits, obs, args.act_steps),
                    "sparse": lambda: repeat(sparse.logits, obs, args.act_steps),
                },
                args.rounds,
            )
        rows.append(
            row(
                "actor-critic acting",
                level,
                mask,
                exported,
                seconds,
                args.act_steps * RL_ENVS,
                "steps/s",
                f"(network alone {alone['speedup']:.2f}x)",
            )
        )
    env.close()
    return rows


def act(model, env, steps: int) -> None:
    """``steps`` steps of every environment, actions sampled from the policy (Gumbel-max, as A2C acts)."""
    obs, _ = env.reset()
    generator = torch.Generator().manual_seed(0)
    for _ in range(steps):
        logits = model.logits(torch.from_numpy(obs).float())
        noise = torch.empty_like(logits).exponential_(generator=generator)
        obs = env.step((logits - noise.log()).argmax(-1).numpy())[0]


def repeat(forward, obs: torch.Tensor, times: int) -> None:
    for _ in range(times):
        forward(obs)


def row(
    what: str, level: int, mask: sm.Mask, exported: sx.Exported, seconds: dict, work: int, unit: str, note: str
) -> dict:
    return {
        "model": what,
        "level": level,
        "pruned": 1 - mask.density(),
        "dense_bytes": exported.dense_bytes,
        "sparse_bytes": exported.bytes,
        "smaller": exported.dense_bytes / exported.bytes,
        "unit": unit,
        "dense_rate": work / seconds["dense"],
        "sparse_rate": work / seconds["sparse"],
        "speedup": seconds["speedup"],
        "csr_tensors": list(exported.layouts.values()).count("csr"),
        "note": note,
    }


def print_table(rows: list[dict]) -> None:
    print(
        f"{'model':<20} {'level':>5} {'pruned':>7} {'dense file':>11} {'sparse file':>11} {'smaller':>8} "
        f"{'dense':>11} {'sparse':>11} {'speed-up':>8}  unit, check"
    )
    for r in rows:
        print(
            f"{r['model']:<20} {r['level']:>5} {r['pruned']:>7.1%} {r['dense_bytes'] / 1e6:>9.2f}MB "
            f"{r['sparse_bytes'] / 1e6:>9.2f}MB {r['smaller']:>7.1f}x {r['dense_rate']:>11,.0f} "
            f"{r['sparse_rate']:>11,.0f} {r['speedup']:>7.2f}x  {r['unit']} {r['note']}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--levels", type=int, nargs="+", default=[7, 10, 13, 20])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--blocks", type=int, default=160, help="test blocks of 50 tokens in the LM pass")
    parser.add_argument("--batch", type=int, default=80, help="blocks per LM batch (fairseq-eval-lm's 4,000 tokens)")
    parser.add_argument("--act-steps", type=int, default=2000, help="steps of each environment per RL timing")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--only", choices=["lm", "rl"])
    parser.add_argument("--out", help="write the rows as JSON")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        if args.only != "lm":
            rows += rl_rows(args, Path(tmp))
        if args.only != "rl":
            rows += lm_rows(args, Path(tmp))
    print_table(rows)
    if args.out:
        Path(args.out).write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
