"""Sparse export of RL tickets: the classic-control actor-critic and ELF's Atari network.

The network is described by the shapes of its weights (and, for Atari, the frame size of the
run's preprocessing), so loading needs neither envpool nor the trainer. The loaded model acts with
CSR weights in the layers where that is faster for a batch of the run's size (``num_envs``
observations for A2C, ``batch_size`` for the Atari actor).
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from shared_mask import tensor_file
from shared_mask.export import Exporter, FinishedUnit, SparseTicket, sparsify

from .atari.network import ELFAtariNet
from .network import ActorCritic

ATARI_FRAME = 84  # the preprocessing's frame size when a run's config does not say


class RLExporter(Exporter):
    name = "rl"

    def handles(self, run_config: dict) -> bool:
        trainer = run_config.get("trainer", {})
        return "algo" in trainer and "task" not in trainer

    def weights(self, unit: FinishedUnit, path: Path) -> tuple[dict[str, torch.Tensor], dict]:
        tensors = tensor_file.load(path)[0]  # its checksum checked: a flipped byte is refused
        config = network_config(tensors, unit.run_config["trainer"], str(path))
        build(config, tensors, str(path))  # the weights must fit the network they describe
        return tensors, config

    def load(self, ticket: SparseTicket, batch: int | None = None, policy: str = "auto") -> nn.Module:
        """The network in eval mode, its Linear layers CSR where faster for ``batch`` observations (default:
        the run's acting batch; ``policy``: auto, sparse or dense)."""
        trainer = ticket.config["run"]["trainer"]
        batch = batch or trainer.get("num_envs") or trainer.get("elf", {}).get("batch_size", 1)
        model = build(ticket.config["model"], ticket.tensors, "the exported ticket")
        sparsify(model, batch, policy)
        return model

    def unpack(self, ticket: SparseTicket, out: Path) -> Path:
        tensor_file.save(ticket.tensors, out)  # with a checksum, as the trainer writes its weights
        return out


def network_config(tensors: dict[str, torch.Tensor], trainer: dict, where: str) -> dict:
    """Which network and sizes ``tensors`` are the weights of."""
    if "trunk.0.weight" not in tensors or "policy.weight" not in tensors:
        raise ValueError(f"{where}: not the weights of an rl_lth actor-critic (no trunk.0.weight / policy.weight)")
    first, policy = tensors["trunk.0.weight"], tensors["policy.weight"]
    if first.dim() == 4:
        frames = trainer.get("preprocessing", {})
        return {
            "network": "elf_atari",
            "in_channels": first.shape[1],
            "actions": policy.shape[0],
            "height": frames.get("img_height", ATARI_FRAME),
            "width": frames.get("img_width", ATARI_FRAME),
            "channels": tensors["trunk.9.weight"].shape[0],
            "hidden": policy.shape[1],
        }
    return {"network": "actor_critic", "obs_size": first.shape[1], "actions": policy.shape[0], "width": first.shape[0]}


@torch.no_grad()
def build(config: dict, tensors: dict[str, torch.Tensor], where: str) -> nn.Module:
    """The network of ``config`` holding ``tensors``, in eval mode; ValueError naming ``where`` if they do not fit."""
    if config["network"] == "elf_atari":
        model = ELFAtariNet(
            config["in_channels"],
            config["actions"],
            config["height"],
            config["width"],
            config["channels"],
            config["hidden"],
        )
    else:
        model = ActorCritic(config["obs_size"], config["actions"], config["width"])
    try:
        model.load_state_dict(tensors, strict=True)
    except RuntimeError as e:
        raise ValueError(f"{where} does not fit the {config['network']} network it describes: {e}") from e
    return model.eval()


EXPORTER = RLExporter()
