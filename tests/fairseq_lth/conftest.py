"""Tiny parallel data and tiny fairseq runs shared by the fairseq_lth tests.

fairseq on the CPU is slow to start (several seconds of imports per process), so the real
fairseq-train runs are session fixtures: one dense run (rewind at update 4) and one run per ticket
kind from its rewind checkpoint, reused by every test that inspects them.
"""

import random
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import shared_mask as sm
from fairseq_lth.driver.evaluate import EvalConfig
from fairseq_lth.driver.processes import PLUGIN_DIR
from fairseq_lth.driver.trainer import FairseqTrainer

BIN = Path(sys.executable).parent
REWIND = 4
MAX_UPDATE = 8
TICKET_SEED = 7
# A 1+1-layer, 32-dim Transformer with shared embeddings; about 7 updates per epoch on the data below.
MODEL_ARGS = [
    "--arch",
    "transformer",
    "--encoder-layers",
    "1",
    "--decoder-layers",
    "1",
    "--encoder-embed-dim",
    "32",
    "--decoder-embed-dim",
    "32",
    "--encoder-ffn-embed-dim",
    "64",
    "--decoder-ffn-embed-dim",
    "64",
    "--encoder-attention-heads",
    "2",
    "--decoder-attention-heads",
    "2",
    "--share-all-embeddings",
    "--optimizer",
    "adam",
    "--lr",
    "1e-3",
    "--lr-scheduler",
    "inverse_sqrt",
    "--warmup-updates",
    "10",
    "--max-tokens",
    "500",
    "--cpu",
    "--num-workers",
    "0",
    "--disable-validation",
    "--no-epoch-checkpoints",
    "--log-interval",
    "1",
    "--save-interval-updates",
    "2",
    "--max-update",
    str(MAX_UPDATE),
]
# The kinds this package ships (tests elsewhere register more in the same session).
BUILT_IN_TICKETS = ("winning", "random_reinit", "random_mask")
# Ticket runs train with a negligible learning rate, so their checkpoints show where they started.
TINY_LR = ["--lr", "1e-9"]


def fairseq(tool: str, *args, check: bool = True) -> subprocess.CompletedProcess:
    """Run a real fairseq console script (fairseq-train, fairseq-generate, ...)."""
    result = subprocess.run([str(BIN / tool), *map(str, args)], capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"{tool} failed:\n" + "\n".join((result.stdout + result.stderr).splitlines()[-30:]))
    return result


def train(data, save_dir, *args, check: bool = True) -> subprocess.CompletedProcess:
    return fairseq(
        "fairseq-train",
        data,
        "--user-dir",
        PLUGIN_DIR,
        "--task",
        "lottery_translation",
        *MODEL_ARGS,
        "--seed",
        "1",
        "--save-dir",
        save_dir,
        *args,
        check=check,
    )


def optimizer_moments(state, builder):
    """parameter name -> [Adam moments] of a fairseq checkpoint (state is indexed in parameter order)."""
    names = [n for n, _ in builder.build_model(0).named_parameters()]
    return {
        names[i]: [v for v in s.values() if torch.is_tensor(v) and v.dim() > 0]
        for i, s in state["last_optimizer_state"]["state"].items()
    }


def write_corpus(folder: Path, n_train: int = 400, seed: int = 0, vocabulary: int = 40) -> None:
    """Synthetic 'translation': reverse the sentence and upper-case its words."""
    rng = random.Random(seed)
    words = [f"w{i}" for i in range(vocabulary)]
    for split, n in (("train", n_train), ("valid", 30), ("test", 30)):
        pairs = []
        for _ in range(n):
            src = [rng.choice(words) for _ in range(rng.randint(3, 8))]
            pairs.append((" ".join(src), " ".join(w.upper() for w in reversed(src))))
        (folder / f"{split}.src").write_text("".join(s + "\n" for s, _ in pairs))
        (folder / f"{split}.tgt").write_text("".join(t + "\n" for _, t in pairs))


@pytest.fixture(scope="session")
def data(tmp_path_factory) -> Path:
    raw = tmp_path_factory.mktemp("raw")
    write_corpus(raw)
    out = raw / "bin"
    fairseq(
        "fairseq-preprocess",
        "--source-lang",
        "src",
        "--target-lang",
        "tgt",
        "--joined-dictionary",
        "--trainpref",
        raw / "train",
        "--validpref",
        raw / "valid",
        "--testpref",
        raw / "test",
        "--destdir",
        out,
        "--workers",
        "1",
    )
    return out


@pytest.fixture(scope="session")
def builder(data) -> FairseqTrainer:
    """Builds the tiny model in-process (the IMP driver's trainer, with the tests' fairseq arguments)."""
    return FairseqTrainer(str(data), MODEL_ARGS, "all", EvalConfig(cpu=True))


@pytest.fixture(scope="session")
def dense(data, tmp_path_factory) -> Path:
    save_dir = tmp_path_factory.mktemp("dense")
    train(data, save_dir, "--lth-rewind-updates", REWIND, "--lth-rewind-checkpoint", save_dir / "rewind.pt")
    return save_dir


@pytest.fixture(scope="session")
def mask(dense, builder, tmp_path_factory) -> Path:
    """An 80%-sparse mask from the dense run's final weights."""
    model = builder.load_weights(dense / "checkpoint_last.pt", builder.build_model(0))
    path = tmp_path_factory.mktemp("mask") / "mask.safetensors"
    sm.prune_global(model, sm.Mask.dense(model, sm.prunable(model, "all")), 0.8).save(path)
    return path


@pytest.fixture(scope="session")
def tickets(data, dense, mask, tmp_path_factory) -> dict:
    """ticket kind -> save dir of a ticket run from the rewind checkpoint (negligible learning rate)."""
    runs = {}
    for kind in BUILT_IN_TICKETS:
        save_dir = tmp_path_factory.mktemp(kind)
        log = train(
            data,
            save_dir,
            *TINY_LR,
            "--continue-once",
            dense / "rewind.pt",
            "--lth-mask",
            mask,
            "--lth-ticket",
            kind,
            "--lth-ticket-seed",
            TICKET_SEED,
        ).stdout
        (save_dir / "train.log").write_text(log)
        runs[kind] = save_dir
    return runs
