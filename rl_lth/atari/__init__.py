"""envpool's Atari games with the standard preprocessing, and ELF's network; the ELF trainer itself is
:mod:`rl_lth.algorithms.elf`. ``python -m rl_lth.atari run ...`` is ``rl-lth run ...``."""
