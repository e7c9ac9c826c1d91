"""`lth-report RUN [RUN ...] --out DIR [--compare] [--tolerance 0.01] [--pdf]`.

Writes into DIR: per run `<run>_<metric>.png` and `<run>_masks.png`; with --compare
`compare_<metric>.png`; `summary.md`, `summary.csv`, `mask_stats.csv`. Prints a short summary and
the missing units. A folder that is not a readable run is reported in one line, exit status 2.
"""

import argparse
import os
import re
import sys
from pathlib import Path

from ..errors import DEBUG, error_line
from ..files import atomic_folder
from ..run_folder import find_runs
from .compare import check_comparable, compare_labels
from .figure_options import AXES, BANDS
from .mask_stats import ALL, mask_stats, write_mask_stats
from .overlap import mask_overlaps, write_overlaps
from .runs import load_run
from .study_tables import early_bird_records, stability_lines, study_lines, write_study_tables
from .tables import missing_lines, summarize, tolerance_sentence, transfer_sentence, write_summaries


def _tolerance(text):
    value = float(text)
    if not 0 <= value < 1:  # NaN fails too
        raise argparse.ArgumentTypeError(f"expected a fraction in [0, 1), got {text!r}")
    return value


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="lth-report", description=__doc__.split("\n\n")[1])
    parser.add_argument(
        "runs",
        nargs="+",
        type=Path,
        metavar="RUN",
        help="run folders written by the lottery loop, or folders holding run folders (searched)",
    )
    parser.add_argument("--out", required=True, type=Path, metavar="DIR", help="folder for the figures and tables")
    parser.add_argument(
        "--compare",
        action="store_true",
        help="also overlay all runs in one figure (ablations), labelled by their differing config fields",
    )
    parser.add_argument(
        "--tolerance",
        type=_tolerance,
        default=0.01,
        help="relative distance to the dense metric that counts as matching it (default 0.01)",
    )
    parser.add_argument(
        "--band",
        choices=sorted(BANDS),
        default="std",
        help="the shaded band around each mean: std over seeds, or sem, the standard error of the mean (default std)",
    )
    parser.add_argument(
        "--x",
        choices=AXES,
        default="pruned",
        help="x axis: fraction of weights pruned, or density (fraction kept); both log-spaced (default pruned)",
    )
    parser.add_argument("--pdf", action="store_true", help="write every figure as PDF too")
    return parser.parse_args(argv)


def run_names(paths):
    """Readable, unique names: a single run's folder name; several runs' paths relative to the folder
    they share (runs/a/run and runs/b/run become a/run and b/run)."""
    resolved = [Path(p).resolve() for p in paths]
    if len(resolved) == 1:
        return [resolved[0].name]
    common = Path(os.path.commonpath(resolved))
    names = [str(p.relative_to(common)) if p != common else p.name for p in resolved]
    seen = {}
    for i, name in enumerate(names):  # the same folder given twice
        seen[name] = seen.get(name, 0) + 1
        names[i] = name if seen[name] == 1 else f"{name} ({seen[name]})"
    return names


def _file_stem(text):
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text)


def _save(fig, out, stem, pdf):
    from . import figures  # matplotlib: imported where figures are drawn, so that --help is quick

    written = []
    for suffix in [".png", ".pdf"] if pdf else [".png"]:
        path = out / f"{_file_stem(stem)}{suffix}"
        figures.save_figure(fig, path)
        written.append(path)
    return written


def report(args):
    """Every output written into a temporary folder, moved into --out once all are written."""
    paths = [path for given in args.runs for path in find_runs(given)]
    runs = [load_run(path, name) for path, name in zip(paths, run_names(paths))]
    if args.compare:
        check_comparable(runs)
    with atomic_folder(args.out) as staging:
        written, summaries, all_stats, studies = _write(runs, argparse.Namespace(**{**vars(args), "out": staging}))
    for summary in summaries:
        _print_run(summary, args.tolerance, [s for s in all_stats if s.run == summary.run.name])
        for line in studies[summary.run.name]:
            print(line)
    print(f"wrote {len(written)} files to {args.out}:", " ".join(p.name for p in written))


def _write(runs, args):
    from . import figures

    summaries = [summarize(run) for run in runs]
    write_summaries(args.out, summaries, args.tolerance)
    written = [args.out / "summary.md", args.out / "summary.csv"]

    for summary in summaries:
        written += _save(
            figures.ticket_figure(summary, args.band, args.x),
            args.out,
            f"{summary.run.name}_{summary.run.metric}",
            args.pdf,
        )
    if len(summaries) > 1:
        written += _save(figures.grid_figure(summaries, args.band, args.x), args.out, "grid", args.pdf)
    if args.compare:
        fig = figures.compare_figure(summaries, compare_labels(runs), args.band, args.x)
        written += _save(fig, args.out, f"compare_{runs[0].metric}", args.pdf)

    all_stats, all_overlaps, studies = [], [], {}
    for run in runs:
        stats, overlaps = mask_stats(run), mask_overlaps(run)
        all_stats += stats
        all_overlaps += overlaps
        if stats:
            fig = figures.mask_figure(run.name, stats, overlaps)
            written += _save(fig, args.out, f"{run.name}_masks", args.pdf)
        studies[run.name] = _studies(run, args, written)
    write_mask_stats(args.out / "mask_stats.csv", all_stats)
    write_overlaps(args.out / "mask_overlap.csv", all_overlaps)
    written += [args.out / "mask_stats.csv", args.out / "mask_overlap.csv"]
    return written, summaries, all_stats, studies


def _studies(run, args, written):
    """The stability and early-bird figures and tables of ``run`` (where it has them); its summary lines."""
    from .study_figures import early_bird_figure, stability_figure

    lines, records = stability_lines(run), early_bird_records(run)
    if lines:
        written += _save(stability_figure(run.name, lines), args.out, f"{run.name}_stability", args.pdf)
    if records:
        fig = early_bird_figure(run.name, records, run.config["lottery"]["rate"])
        written += _save(fig, args.out, f"{run.name}_early_bird", args.pdf)
    written += write_study_tables(args.out, run, lines, records)
    return study_lines(lines, records)


def _print_run(summary, tolerance, stats):
    run = summary.run
    print(
        f"{run.name} ({run.experiment}, {run.metric}): "
        f"{len(summary.levels)} pruned levels with results, dense "
        + ("missing" if summary.dense is None else f"{summary.dense.mean:.4g} ± {summary.dense.std:.4g}")
    )
    print(f"  {tolerance_sentence(summary, tolerance)}")
    if summary.levels:
        last = summary.levels[-1]
        gaps = [
            f"winning − {t} = {summary.gap(last, t):.4g}"
            for t in summary.random_tickets
            if summary.gap(last, t) is not None
        ]
        if gaps:
            print(f"  at {last.fraction_pruned:.3g} pruned (level {last.level}): {', '.join(gaps)}")
    missing = missing_lines(run)
    if missing:
        print(f"  missing {len(run.missing_units())} of {len(run.expected_units())} units:")
        for line in missing:
            print(f"    {line}")
    if run.transfer:
        print(f"  {transfer_sentence(run.transfer)}")
    if not any(s.layer == ALL for s in stats):
        print("  no level masks found (seed_*/level_*/mask.safetensors)")


def main(argv=None):
    args = parse_args(argv)
    try:
        report(args)
    except (ValueError, OSError) as err:  # RunError is a ValueError
        if os.environ.get(DEBUG):
            raise
        print(f"lth-report: error: {error_line(err)}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
