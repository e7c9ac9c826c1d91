"""fairseq's command-line programs as subprocesses of the plugin."""
from __future__ import annotations

import subprocess
from pathlib import Path

PLUGIN_DIR = str(Path(__file__).resolve().parent)  # the --user-dir of every fairseq command


def run_logged(cmd: list[str], log: Path) -> str:
    """Run ``cmd`` and return its standard output; keep stdout and stderr in ``log``; on failure raise
    with the log's tail."""
    log.parent.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(cmd, capture_output=True, text=True)
    log.write_text(result.stdout + result.stderr)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).splitlines()[-25:])
        raise RuntimeError(f"{' '.join(cmd[:3])} failed (exit {result.returncode}); log {log}:\n{tail}")
    return result.stdout
