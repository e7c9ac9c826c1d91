"""Sparse export of fairseq tickets: any fairseq model as a sparse file that unpacks to a checkpoint
fairseq-generate / fairseq-eval-lm load (with ``--user-dir fairseq_lth``), and a fast sparse
inference model for the plugin's LSTM language model.

The file keeps the checkpoint's configuration (``cfg``, its last optimizer-history entry and the
training position; not the optimizer state or the logged meters) as JSON, so it is self-contained.
:class:`SparseLSTMLM` computes what ``--arch lottery_lstm*`` computes in eval mode (dropout off):
embedding lookup, the LSTM (:class:`shared_mask.export.SparseLSTM`), output layer, with CSR products
where they are faster for the batch it is built for.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import torch
import torch.nn.functional as F
from fairseq import checkpoint_utils
from torch import nn

from shared_mask.export import Exporter, FinishedUnit, SparseLSTM, SparseTicket, best_kernel
from shared_mask.run_folder import UnitFolder

from .plugin.checkpoint_compat import load_checked, save_checked

LSTM_KEY = "decoder.lstm.weight_ih_l0"  # the plugin's LSTM language model (lstm_lm.LSTMDecoder)
_NAMESPACE, _TUPLE = "__argparse_namespace__", "__tuple__"


class FairseqExporter(Exporter):
    name = "fairseq"

    def handles(self, run_config: dict) -> bool:
        trainer = run_config.get("trainer", {})
        return "task" in trainer and "train_args" in trainer

    def weights(self, unit: FinishedUnit, path: Path) -> tuple[dict[str, torch.Tensor], dict]:
        state = load_checked(path)  # its checksum checked: a flipped byte is refused
        model = state["model"]
        kept = {
            "args": state.get("args"),
            "cfg": state.get("cfg"),
            "optimizer_history": state["optimizer_history"][-1:],
            "extra_state": {k: v for k, v in (state.get("extra_state") or {}).items() if k == "train_iterator"},
        }
        return model, {"checkpoint": _encode(kept), "lstm_lm": LSTM_KEY in model}

    def scored(self, unit: FinishedUnit) -> Path:
        """The unit's scored.pt (see :func:`fairseq_lth.driver.checkpoints.scored_checkpoint`)."""
        scored = UnitFolder(unit.dir).scored
        if not scored.is_file():
            raise ValueError(
                f"{unit.dir} keeps no scored weights ({scored.name}): scored before fairseq-lth-imp kept them, or "
                "deleted (--keep-weights needed); export its final weights (--weights final)"
            )
        return scored

    def weights_note(self, unit: FinishedUnit, path: Path) -> str:
        average = unit.run_config["trainer"].get("evaluation", {}).get("average_last", 1)
        if path != unit.final:
            what = f"the average of the unit's last {average} checkpoints" if average > 1 else "its last checkpoint"
            return f"{path.name}: {what}, which its metric scored"
        if average <= 1:
            return super().weights_note(unit, path)
        return (
            f"{path.name}: the unit's last checkpoint; its metric was scored on the average of its last "
            f"{average} checkpoints (lth-export --weights scored exports those)"
        )

    def load(
        self, ticket: SparseTicket, batch: int | None = None, policy: str = "auto", data: str | None = None
    ) -> nn.Module:
        """The LSTM LM as a :class:`SparseLSTMLM` built for batches of ``batch`` blocks (default: what
        fairseq-eval-lm's scoring batch holds of the run's --tokens-per-sample blocks); any other model as
        fairseq loads it from the unpacked checkpoint (``data``: the binarized data directory, default: the
        one it was trained on)."""
        if ticket.config["model"]["lstm_lm"]:
            block = _checkpoint(ticket)["cfg"]["task"]["tokens_per_sample"]
            evaluation = ticket.config["run"]["trainer"].get("evaluation", {})
            batch = batch or max(1, evaluation.get("max_tokens", block) // block)
            return SparseLSTMLM.from_tensors(ticket.tensors, batch, policy)
        with tempfile.TemporaryDirectory() as tmp:
            path = self.unpack(ticket, Path(tmp) / "model.pt")
            try:
                overrides = {"data": data} if data else None
                models, _ = checkpoint_utils.load_model_ensemble([str(path)], arg_overrides=overrides)
            except FileNotFoundError as e:
                raise ValueError(
                    f"fairseq needs the model's dictionaries to build it ({e}); "
                    "pass data=<the binarized data directory>"
                ) from None
        return models[0].eval()

    def unpack(self, ticket: SparseTicket, out: Path) -> Path:
        """A fairseq checkpoint with the ticket's weights and no optimizer state."""
        state = {
            **_checkpoint(ticket),
            "model": ticket.tensors,
            "criterion": None,
            "task_state": {},
            "last_optimizer_state": None,
        }
        save_checked(state, out)
        return out


def _checkpoint(ticket: SparseTicket) -> dict:
    return json.loads(json.dumps(ticket.config["model"]["checkpoint"]), object_hook=_decode)


def _encode(value):
    """JSON-able form of a checkpoint's configuration that keeps the legacy ``argparse.Namespace`` model
    arguments and tuples (``adam_betas``) as they were."""
    if isinstance(value, argparse.Namespace):
        return {_NAMESPACE: _encode(vars(value))}
    if isinstance(value, tuple):
        return {_TUPLE: [_encode(v) for v in value]}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise ValueError(f"cannot store a {type(value).__name__} of the checkpoint's configuration")


def _decode(obj: dict):
    if _NAMESPACE in obj:
        return argparse.Namespace(**obj[_NAMESPACE])
    return tuple(obj[_TUPLE]) if _TUPLE in obj else obj


class SparseLSTMLM(nn.Module):
    """Inference twin of ``--arch lottery_lstm*``: token blocks -> next-token logits, each block from a zero
    state. Works step by step in (features, batch) slices (see :mod:`shared_mask.export.lstm`), output
    layer included: its CSR product is fastest on one step's columns, and :meth:`nll` never holds more
    than one step's logits."""

    def __init__(
        self, embedding: torch.Tensor, lstm: SparseLSTM, output_weight: torch.Tensor, output_bias: torch.Tensor | None
    ):
        super().__init__()
        self.register_buffer("embedding", embedding)
        self.lstm = lstm
        self.register_buffer("output_weight", output_weight)
        self.register_buffer("output_bias", None if output_bias is None else output_bias.reshape(-1, 1).clone())

    @classmethod
    @torch.no_grad()
    def from_tensors(cls, tensors: dict[str, torch.Tensor], batch: int, policy: str = "auto") -> SparseLSTMLM:
        """From the model's state dict, each matrix CSR or dense, whichever is faster for ``batch`` blocks."""
        prefix = "decoder.lstm."
        lstm_weights = {n[len(prefix) :]: t for n, t in tensors.items() if n.startswith(prefix)}
        layers = sum(1 for n in lstm_weights if n.startswith("weight_ih_l"))
        lstm = SparseLSTM.from_weights(lstm_weights, layers, batch, policy)
        output = best_kernel(tensors["decoder.output_projection.weight"], batch, policy)
        return cls(tensors["decoder.embed_tokens.weight"], lstm, output, tensors.get("decoder.output_projection.bias"))

    def hidden(self, tokens: torch.Tensor) -> torch.Tensor:
        """tokens (batch, time) -> the last LSTM layer's states (time, hidden, batch)."""
        x = F.embedding(tokens.T, self.embedding).transpose(1, 2).contiguous()
        return self.lstm.forward_steps(x)[0]

    def step_logits(self, hidden: torch.Tensor) -> torch.Tensor:
        """One step's states (hidden, batch) -> logits (vocabulary, batch)."""
        if self.output_bias is None:
            return torch.mm(self.output_weight, hidden)
        return torch.addmm(self.output_bias, self.output_weight, hidden)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """tokens (batch, time) -> logits (batch, time, vocabulary), as the fairseq model's first output."""
        return torch.stack([self.step_logits(h) for h in self.hidden(tokens)]).permute(2, 0, 1)

    def nll(self, tokens: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Summed negative log-likelihood of ``targets`` (batch, time) in nats."""
        total = tokens.new_zeros((), dtype=torch.float64)
        for t, h in enumerate(self.hidden(tokens)):
            logits = self.step_logits(h)
            chosen = logits.gather(0, targets[:, t].unsqueeze(0))[0]
            total += (torch.logsumexp(logits, dim=0) - chosen).sum()
        return total


EXPORTER = FairseqExporter()
