"""``--arch lottery_lstm_wikitext2``: the paper's LSTM language model on a fused ``nn.LSTM``.

Yu et al. (2020) prune a Zaremba et al. (2014) "medium" LSTM on Wikitext-2: word embeddings of
650, two LSTM layers of 650 units, dropout 0.5 between layers, an output layer over the vocabulary.
fairseq's own ``lstm_lm`` steps an ``LSTMCell`` per layer and time step in Python; this model runs
all layers and time steps in one ``nn.LSTM`` call (cuDNN on GPUs, one fused kernel per layer on
CPUs), so it is much faster (benchmarks/lstm_lm_throughput.py).

Choices where the paper is silent:

- Dropout (``--dropout``) is Zaremba's: on the embeddings, between the LSTM layers and before the
  output layer, never on the recurrent connections.
- Every parameter starts uniform in [-``--init-scale``, ``--init-scale``] (0.05, Zaremba's medium
  model), biases included, except the padding row of the embedding (zero, as in fairseq).
- The output layer has its own weight by default: the paper prunes it as a layer of its own.
  ``--share-decoder-input-output-embed`` ties it to the embedding (needs equal embedding and
  hidden sizes); a tied table is one tensor to the mask, pruned once.
- The recurrent state is not carried from one block of ``--tokens-per-sample`` tokens to the next:
  fairseq's language-modeling task shuffles the blocks, so each block starts from a zero state
  (truncated BPTT over 50 tokens without state passing). Test scoring uses the same blocks.

Every parameter (embedding, LSTM weights and biases, output layer) is prunable with --lth-scope all;
``no_embeddings`` keeps the embedding and the output layer dense.
"""

from dataclasses import dataclass, field, fields
from typing import Dict, Optional

import torch
from fairseq.dataclass import FairseqDataclass
from fairseq.models import (
    FairseqIncrementalDecoder,
    FairseqLanguageModel,
    register_model,
    register_model_architecture,
)
from fairseq.modules import FairseqDropout
from torch import Tensor, nn

# An LSTM reads sequences of any length; fairseq asks for a limit when it filters and generates.
MAX_POSITIONS = 1_000_000


@dataclass
class LotteryLSTMConfig(FairseqDataclass):
    dropout: float = field(
        default=0.5, metadata={"help": "dropout on the embeddings, between LSTM layers and before the output layer"}
    )
    decoder_embed_dim: int = field(default=650, metadata={"help": "word embedding size"})
    decoder_hidden_size: int = field(default=650, metadata={"help": "LSTM hidden size"})
    decoder_layers: int = field(default=2, metadata={"help": "number of LSTM layers"})
    share_decoder_input_output_embed: bool = field(
        default=False, metadata={"help": "tie the output layer's weight to the embedding (off in the paper)"}
    )
    init_scale: float = field(default=0.05, metadata={"help": "initialize every parameter uniform in [-s, s]"})


@register_model("lottery_lstm", dataclass=LotteryLSTMConfig)
class LotteryLSTMLanguageModel(FairseqLanguageModel):
    @classmethod
    def build_model(cls, cfg, task):
        if cfg.share_decoder_input_output_embed:
            if task.source_dictionary != task.target_dictionary:
                raise ValueError(
                    "--share-decoder-input-output-embed needs the same input and output dictionary "
                    "(drop --output-dictionary-size)"
                )
            if cfg.decoder_embed_dim != cfg.decoder_hidden_size:
                raise ValueError(
                    "--share-decoder-input-output-embed needs --decoder-embed-dim "
                    f"({cfg.decoder_embed_dim}) equal to --decoder-hidden-size "
                    f"({cfg.decoder_hidden_size})"
                )
        return cls(LSTMDecoder(cfg, task.source_dictionary, len(task.target_dictionary)))


class LSTMDecoder(FairseqIncrementalDecoder):
    """Embedding, dropout, a multi-layer ``nn.LSTM`` (batch first), dropout, output layer.

    With ``incremental_state`` (generation) it caches the LSTM's (h, c) and reads only the newest token.
    """

    def __init__(self, cfg: LotteryLSTMConfig, dictionary, output_size: int):
        super().__init__(dictionary)
        self.embed_tokens = nn.Embedding(len(dictionary), cfg.decoder_embed_dim, padding_idx=dictionary.pad())
        self.dropout_module = FairseqDropout(cfg.dropout, module_name=self.__class__.__name__)
        self.lstm = nn.LSTM(
            cfg.decoder_embed_dim,
            cfg.decoder_hidden_size,
            num_layers=cfg.decoder_layers,
            dropout=cfg.dropout if cfg.decoder_layers > 1 else 0.0,
            batch_first=True,
        )
        self.output_projection = nn.Linear(cfg.decoder_hidden_size, output_size)
        self._init_uniform(cfg.init_scale)
        if cfg.share_decoder_input_output_embed:
            self.output_projection.weight = self.embed_tokens.weight

    @torch.no_grad()
    def _init_uniform(self, scale: float) -> None:
        for p in self.parameters():
            p.uniform_(-scale, scale)
        self.embed_tokens.weight[self.embed_tokens.padding_idx].zero_()

    def forward(
        self, prev_output_tokens, incremental_state: Optional[Dict[str, Dict[str, Optional[Tensor]]]] = None, **unused
    ):
        x, extra = self.extract_features(prev_output_tokens, incremental_state)
        return self.output_layer(x), extra

    def extract_features(
        self, prev_output_tokens, incremental_state: Optional[Dict[str, Dict[str, Optional[Tensor]]]] = None, **unused
    ):
        state = None
        if incremental_state is not None:
            cached = self.get_incremental_state(incremental_state, "lstm_state")
            if cached is not None:
                state = (cached["h"], cached["c"])
                prev_output_tokens = prev_output_tokens[:, -1:]
        x = self.dropout_module(self.embed_tokens(prev_output_tokens))
        x, (h, c) = self.lstm(x, state)
        if incremental_state is not None:
            self.set_incremental_state(incremental_state, "lstm_state", {"h": h, "c": c})
        return self.dropout_module(x), {"attn": None}

    def output_layer(self, features, **unused):
        return self.output_projection(features)

    def reorder_incremental_state(self, incremental_state: Dict[str, Dict[str, Optional[Tensor]]], new_order: Tensor):
        cached = self.get_incremental_state(incremental_state, "lstm_state")
        if cached is not None:  # (layers, batch, hidden)
            self.set_incremental_state(
                incremental_state, "lstm_state", {k: v.index_select(1, new_order) for k, v in cached.items()}
            )

    def max_positions(self):
        return MAX_POSITIONS


@register_model_architecture("lottery_lstm", "lottery_lstm_wikitext2")
def lottery_lstm_wikitext2(args):
    """The paper's Wikitext-2 model (see the module docstring); train with --tokens-per-sample 50 --batch-size 30."""
    for option in fields(LotteryLSTMConfig):  # the config's defaults are the paper's
        if not option.name.startswith("_") and not hasattr(args, option.name):
            setattr(args, option.name, option.default)
