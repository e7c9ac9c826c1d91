"""The command line of a scoring module (``python -m fairseq_lth.driver.evaluate SAVE_DIR ...``): the average of a
save dir's last checkpoints, scored."""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from shared_mask.files import write_json

from .checkpoints import average_checkpoints, last_checkpoints
from .scoring import add_scoring_options, scoring_config


def cli(argv: list[str] | None, doc: str, score, cls: type) -> None:
    """The command line of a scoring module: ``score(data, checkpoint, cls(...), work_dir)`` on the average of a
    save dir's last checkpoints."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("save_dir", help="a fairseq-train --save-dir")
    parser.add_argument("--data", required=True, help="the binarized data directory")
    parser.add_argument("--out", help="write the metrics here as JSON")
    add_scoring_options(parser, [cls], unset_help=f"default: {cls.__name__}'s")
    args = parser.parse_args(argv)
    config = scoring_config(args, cls, [cls])
    with tempfile.TemporaryDirectory() as tmp:
        averaged = average_checkpoints(last_checkpoints(args.save_dir, config.average_last), Path(tmp) / "averaged.pt")
        metrics = score(args.data, averaged, config, Path(args.save_dir))
    print(json.dumps(metrics))
    if args.out:
        write_json(args.out, metrics)
