"""One distribution for the three packages of the lottery-ticket toolkit.

Install torch first (``pip install torch==2.13.0``, or use ``constraints.txt``): a bare
``torch`` requirement would pull a multi-GB CUDA build on CPU-only machines.
"""

from setuptools import find_packages, setup

setup(
    name="lth-nlp-rl",
    version="0.1.0",
    description="Lottery tickets in NLP (fairseq) and RL (envpool): Yu, Edunov, Tian & Morcos, ICLR 2020",
    python_requires=">=3.10",
    packages=find_packages(include=["shared_mask*", "rl_lth*", "fairseq_lth*"]),
    install_requires=[
        "torch>=2.1,<=2.14.1",
        "numpy",
        "safetensors",
        "tqdm",
        "tensorboard",
        "matplotlib",
        "envpool>=1.2",
        "gymnasium",
        "sacremoses",
        "subword-nmt",
        "sacrebleu",
        'fairseq==0.12.2; python_version < "3.11"',
        'fairseq-fixed==0.12.3.1; python_version >= "3.11"',
    ],
    extras_require={
        "test": ["pytest", "pytest-timeout", "pytest-xdist", "ruff==0.17.6"],
        "ray": ["ray==2.60.0"],  # --workers / --ray-address: units of a lottery at once on a Ray cluster
        "bench": ["stable-baselines3"],
    },
    entry_points={
        "console_scripts": [
            "rl-lth=rl_lth.cli:main",
            "lth-report=shared_mask.report.cli:main",
            "lth-status=shared_mask.status:main",
            "fairseq-lth-imp=fairseq_lth.driver.imp:main",
            "lth-export=shared_mask.export.cli:main",
        ],
        # Domain exporters for lth-export (shared_mask imports no domain; see shared_mask/export/registry.py).
        "lth_nlp_rl.exporters": [
            "rl=rl_lth.export:EXPORTER",
            "fairseq=fairseq_lth.export:EXPORTER",
        ],
    },
)
