"""Writing the report's text outputs: UTF-8 (the tables hold ± and −), atomically."""

import csv
import io

from ..files import atomic_write


def write_utf8(path, text):
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def csv_text(header, rows):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()
