"""Lottery tickets for fairseq, in two parts that run in different processes:

- :mod:`fairseq_lth.plugin`: what fairseq-train imports with ``--user-dir fairseq_lth`` (the lottery
  tasks ``lottery_translation`` and ``lottery_language_modeling``, ``--arch lottery_lstm_wikitext2``);
- :mod:`fairseq_lth.driver`: the IMP driver ``fairseq-lth-imp``, which runs fairseq-train per unit.

fairseq imports this folder as the module ``fairseq_lth``: importing it registers the plugin.
"""

from . import plugin  # noqa: F401
