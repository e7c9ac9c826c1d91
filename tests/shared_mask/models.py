"""Small models shared by the shared_mask tests."""

import torch
from torch import nn


class TiedLM(nn.Module):
    """Embedding -> linear -> output projection tied to the embedding (fairseq-style sharing)."""

    def __init__(self, vocab=40, dim=12):
        super().__init__()
        self.embed_tokens = nn.Embedding(vocab, dim)
        self.hidden = nn.Linear(dim, dim)
        self.norm = nn.LayerNorm(dim)
        self.output_projection = nn.Linear(dim, vocab, bias=False)
        self.output_projection.weight = self.embed_tokens.weight

    def forward(self, tokens):
        return self.output_projection(self.norm(torch.relu(self.hidden(self.embed_tokens(tokens)))))


def mlp(seed=0, sizes=(10, 32, 32, 3)):
    torch.manual_seed(seed)
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    return nn.Sequential(*layers[:-1])
