"""Data-parallel units: the processes of one unit's fairseq-train, one per rank.

On GPUs fairseq-train starts its ranks itself (``--distributed-world-size N``: one process per GPU,
nccl, c10d DDP), so a unit is one command. On the CPU its launcher starts min(CUDA devices, world
size) = 0 processes and does nothing, and c10d DDP refuses CPU modules; there the driver starts one
fairseq-train per rank itself, joined over gloo on a local TCP port with fairseq's legacy DDP.
"""

from __future__ import annotations

import socket

from omegaconf import DictConfig

# Options the driver sets on each rank of a CPU unit (a user's value would name another process layout).
RANK_OPTIONS = (
    "--distributed-rank",
    "--distributed-no-spawn",
    "--distributed-init-method",
    "--device-id",
    "--local-rank",
    "--distributed-port",
)
CPU_DDP = ("legacy_ddp", "no_c10d")  # the DDP backends fairseq runs on CPU modules


def cpu_world_size(cfg: DictConfig) -> int:
    """The number of fairseq-train processes the driver starts per unit: the world size on the CPU, else 1."""
    world = cfg.distributed_training.distributed_world_size
    return world if cfg.common.cpu and world > 1 else 1


def check_ranks(cfg: DictConfig, train_args: list[str]) -> None:
    """Refuse what a data-parallel CPU unit cannot run with (one line each)."""
    if cpu_world_size(cfg) == 1:
        return
    given = [a for a in train_args if a.split("=")[0] in RANK_OPTIONS]
    if given:
        raise ValueError(f"the driver starts and places each rank of a CPU unit itself; remove {' '.join(given)}")
    if "--ddp-backend" in _named(train_args) and cfg.distributed_training.ddp_backend not in CPU_DDP:
        raise ValueError(
            f"--ddp-backend {cfg.distributed_training.ddp_backend} does not train CPU modules; use "
            "--ddp-backend legacy_ddp (the driver's default on the CPU)"
        )
    if "--distributed-backend" in _named(train_args) and cfg.distributed_training.distributed_backend != "gloo":
        raise ValueError(
            f"--distributed-backend {cfg.distributed_training.distributed_backend} needs GPUs; "
            "on the CPU ranks join over gloo (the driver's default)"
        )


def rank_commands(cmd: list[str], train_args: list[str], world: int) -> list[list[str]]:
    """``cmd`` for each rank of a CPU unit of ``world`` ranks (just ``cmd`` when ``world`` is 1)."""
    if world == 1:
        return [cmd]
    named = _named(train_args)
    shared = [
        *([] if "--ddp-backend" in named else ["--ddp-backend", "legacy_ddp"]),
        *([] if "--distributed-backend" in named else ["--distributed-backend", "gloo"]),
        "--distributed-no-spawn",
        "--distributed-init-method",
        f"tcp://127.0.0.1:{_free_port()}",
    ]
    return [[*cmd, *shared, "--distributed-rank", str(rank)] for rank in range(world)]


def _named(train_args: list[str]) -> set[str]:
    return {a.split("=")[0] for a in train_args if a.startswith("--")}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
