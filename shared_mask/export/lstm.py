"""An inference LSTM whose gate matrices can be CSR: one sparse product per layer for the input
projections of all time steps, one per time step for the recurrent projection.

It computes what ``nn.LSTM`` computes in eval mode (no dropout), gate order i, f, g, o. Inside, it
works features-first ((features, time, batch)), so every product is CSR x contiguous dense, the
layout torch's CSR kernels take, and one layer's output feeds the next without a copy.
"""
from __future__ import annotations

import torch
from torch import nn

from .kernels import best_kernel


class SparseLSTM(nn.Module):
    """Stacked unidirectional LSTM layers from the weights of an ``nn.LSTM`` (dense or CSR per matrix)."""

    def __init__(self, input_weights: list[torch.Tensor], hidden_weights: list[torch.Tensor], biases: list[torch.Tensor]):
        super().__init__()
        self.num_layers = len(input_weights)
        self.hidden_size = hidden_weights[0].shape[1]
        for layer, (w_ih, w_hh, bias) in enumerate(zip(input_weights, hidden_weights, biases)):
            self.register_buffer(f"w_ih_{layer}", w_ih)
            self.register_buffer(f"w_hh_{layer}", w_hh)
            self.register_buffer(f"bias_{layer}", bias.detach().reshape(-1, 1, 1).clone())

    @classmethod
    @torch.no_grad()
    def from_weights(cls, weights: dict[str, torch.Tensor], layers: int, tokens: int, batch: int,
                     policy: str = "auto") -> "SparseLSTM":
        """From an ``nn.LSTM``'s state dict (weight_ih_l0, ..., bias_hh_l1); each gate matrix is dense or CSR,
        whichever is faster for ``tokens`` (time steps x batch) input rows and ``batch`` recurrent rows."""
        suffixes = [f"_l{layer}" for layer in range(layers)]
        unsupported = [n for n in weights if not any(n.endswith(s) for s in suffixes) or "reverse" in n or "hr_" in n]
        if unsupported:
            raise ValueError(f"SparseLSTM supports unidirectional LSTMs without projections; got {unsupported}")
        return cls([best_kernel(weights[f"weight_ih{s}"], tokens, policy) for s in suffixes],
                   [best_kernel(weights[f"weight_hh{s}"], batch, policy) for s in suffixes],
                   [weights[f"bias_ih{s}"] + weights[f"bias_hh{s}"] for s in suffixes])

    def forward_features_first(self, x: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor] | None = None):
        """x: (input features, time, batch) -> (hidden, time, batch) and the last (h, c), each (layers, hidden, batch)."""
        _, steps, batch = x.shape
        hs, cs = [], []
        for layer in range(self.num_layers):
            w_hh = getattr(self, f"w_hh_{layer}")
            projected = torch.mm(getattr(self, f"w_ih_{layer}"), x.reshape(x.shape[0], steps * batch))
            projected = projected.view(-1, steps, batch) + getattr(self, f"bias_{layer}")
            h, c = (state[0][layer], state[1][layer]) if state is not None else (
                x.new_zeros(self.hidden_size, batch), x.new_zeros(self.hidden_size, batch))
            out = x.new_empty(self.hidden_size, steps, batch)
            for t in range(steps):
                i, f, g, o = torch.addmm(projected[:, t], w_hh, h).chunk(4, 0)
                c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
                h = torch.sigmoid(o) * torch.tanh(c)
                out[:, t] = h
            hs.append(h)
            cs.append(c)
            x = out
        return x, (torch.stack(hs), torch.stack(cs))

    def forward(self, x: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor] | None = None):
        """Batch-first like ``nn.LSTM(batch_first=True)``: x (batch, time, input) -> (batch, time, hidden), (h, c)."""
        if state is not None:
            state = tuple(s.transpose(1, 2) for s in state)
        out, (h, c) = self.forward_features_first(x.permute(2, 1, 0).contiguous(), state)
        return out.permute(2, 1, 0), (h.transpose(1, 2), c.transpose(1, 2))
