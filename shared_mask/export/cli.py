"""``lth-export``: a finished unit to a sparse ticket file, or a ticket file back to dense weights.

lth-export RUN/seed_<s>/level_<kk>/<ticket> --out ticket.safetensors [--weights final|scored]
lth-export ticket.safetensors --out final.pt            # dense form: fairseq checkpoint / safetensors
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import one_line_errors
from . import api


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="lth-export",
        description=__doc__.split("\n\n")[0],
        epilog="Load an exported ticket in Python with shared_mask.export.load(path).",
    )
    parser.add_argument("source", help="a finished unit folder (export), or an exported ticket file (unpack)")
    parser.add_argument("--out", required=True, help="the file to write")
    parser.add_argument(
        "--weights",
        choices=api.WEIGHTS,
        default="final",
        help="export: the unit's weights at the end of training (final), or those its metric was computed from "
        "(scored: a fairseq unit's average of its last --average-last checkpoints) (default: final)",
    )
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    with one_line_errors(parser):
        source, out = Path(args.source), Path(args.out)
        if out.is_dir():
            raise ValueError(f"--out {out} is a directory: name the file to write")
        if source.is_file():
            if out.resolve() == source.resolve():
                raise ValueError(f"--out {out} is the ticket being read: write the dense weights elsewhere")
            print(f"{api.unpack(source, out)}: dense weights of {source}")
        else:
            level = source.resolve().parent
            read = [
                level / "mask.safetensors",
                level / "transfer_mask.safetensors",
                level.parent.parent / "config.json",
            ]
            if out.resolve().is_relative_to(source.resolve()) or out.resolve() in read:
                raise ValueError(f"--out {out} is a file of the unit being exported: write the ticket elsewhere")
            print(api.export(source, out, args.weights))
