"""``lth-export``: a finished unit to a sparse ticket file, or a ticket file back to dense weights.

lth-export RUN/seed_<s>/level_<kk>/<ticket> --out ticket.safetensors
lth-export ticket.safetensors --out final.pt            # dense form: fairseq checkpoint / safetensors
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import api


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="lth-export",
        description=__doc__.split("\n\n")[0],
        epilog="Load an exported ticket in Python with shared_mask.export.load(path).",
    )
    parser.add_argument("source", help="a finished unit folder (export), or an exported ticket file (unpack)")
    parser.add_argument("--out", required=True, help="the file to write")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    try:
        if Path(args.source).is_file():
            print(f"{api.unpack(args.source, args.out)}: dense weights of {args.source}")
        else:
            print(api.export(args.source, args.out))
    except ValueError as error:
        parser.exit(2, f"{parser.prog}: error: {error}\n")
