"""Lottery tickets for fairseq, in two parts that run in different processes:

- :mod:`fairseq_lth.plugin`: what fairseq-train imports with ``--user-dir fairseq_lth`` (the lottery
  tasks ``lottery_translation`` and ``lottery_language_modeling``, ``--arch lottery_lstm_wikitext2``);
- :mod:`fairseq_lth.driver`: the IMP driver ``fairseq-lth-imp``, which runs fairseq-train per unit.

fairseq imports this folder as the module ``fairseq_lth`` (``--user-dir``): imported once fairseq is, it
registers the plugin. Without fairseq loaded (the driver's and lth-export's commands starting) it imports
nothing, so their ``--help`` needs no fairseq; every module that uses fairseq imports the plugin (or fairseq,
then ``fairseq_lth``) itself. In Python, ``import fairseq_lth.plugin`` registers it in any order.
"""

import sys

if "fairseq" in sys.modules:
    from . import plugin  # noqa: F401
