"""fairseq programs as children the driver owns: live logs, one-line failures, death with the driver, the
unit lock, and the progress bar read from fairseq-train's log lines."""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from fairseq_lth.driver.processes import PLUGIN_DIR, ProcessFailed, run_logged
from fairseq_lth.driver.unit_lock import unit_lock
from fairseq_lth.driver.unit_progress import UnitProgress

# A driver that runs a sleeping child, loading processes.py alone (importing the package imports fairseq).
DRIVER = f"""
import importlib.util, sys
from pathlib import Path
spec = importlib.util.spec_from_file_location("processes", {os.path.join(PLUGIN_DIR, "driver", "processes.py")!r})
processes = importlib.util.module_from_spec(spec)
spec.loader.exec_module(processes)
processes.run_logged("sleeper", [sys.executable, "-c", "import os, time; print(os.getpid()); time.sleep(60)"],
                     Path(sys.argv[1]))
"""


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] not in "ZX"
    except FileNotFoundError:
        return False


def wait_for(condition, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)
    return condition()


def test_output_reaches_the_log_line_by_line_while_the_program_runs(tmp_path):
    log, go = tmp_path / "train.log", tmp_path / "go"
    code = (
        f"import os, sys, time\nprint('first')\nprint('to stderr', file=sys.stderr)\n"
        f"while not os.path.exists({str(go)!r}): time.sleep(0.01)\nprint('last')"
    )
    lines = []
    runner = threading.Thread(target=run_logged, args=("prog", python(code), log, lines.append))
    runner.start()
    assert wait_for(lambda: log.exists() and "to stderr" in log.read_text() and "first" in log.read_text())
    assert runner.is_alive()  # the program still runs: its first lines are already in the log
    go.touch()
    runner.join()
    assert lines == ["first", "last"]
    assert sorted(log.read_text().splitlines()) == ["first", "last", "to stderr"]


def test_a_failing_program_is_one_line_naming_it_its_last_words_and_its_log(tmp_path):
    log = tmp_path / "generate.log"
    with pytest.raises(ProcessFailed) as failed:
        run_logged("fairseq-generate", python("import sys; print('hello'); sys.exit('ValueError: no subset')"), log)
    first = str(failed.value).splitlines()[0]
    assert first == f"fairseq-generate exited with status 1: ValueError: no subset (log: {log})"
    run_logged("prog", python("print('again')"), log, append=True)
    lines = log.read_text().splitlines()  # stdout and stderr are two pipes: their lines may interleave
    assert sorted(lines[:2]) == ["ValueError: no subset", "hello"] and lines[2:] == ["again"]


def test_children_die_with_a_driver_killed_with_sigkill(tmp_path):
    log = tmp_path / "sleeper.log"
    driver = subprocess.Popen(python(DRIVER) + [str(log)])
    assert wait_for(lambda: log.exists() and log.read_text().strip())
    child = int(log.read_text())
    assert alive(child)
    driver.send_signal(signal.SIGKILL)
    driver.wait()
    assert wait_for(lambda: not alive(child), 5), "the child outlived its driver"


def test_children_die_when_the_driver_stops_on_an_exception(tmp_path):
    pids = []

    def stop(line):
        pids.append(int(line))
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_logged("sleeper", python("import os, time; print(os.getpid()); time.sleep(60)"), tmp_path / "log", stop)
    assert not alive(pids[0])


def test_a_unit_stays_locked_while_its_owner_or_the_program_it_started_lives(tmp_path):
    with unit_lock(tmp_path) as fd:
        with pytest.raises(RuntimeError, match=f"{tmp_path} is in use: locked by process {os.getpid()}"):
            with unit_lock(tmp_path, wait=0.2):
                pass
        child = subprocess.Popen(python("import time; time.sleep(1.5)"), pass_fds=(fd,))
    with pytest.raises(RuntimeError, match="in use"):  # the owner is gone, the program it started is not
        with unit_lock(tmp_path, wait=0.2):
            pass
    with unit_lock(tmp_path, wait=10):
        assert child.poll() is not None


LINES = """\
2026-11-27 21:13:40 | INFO | fairseq.trainer | Loaded checkpoint RUN/rewind.pt (epoch 1 @ 4 updates)
2026-11-27 21:13:40 | INFO | fairseq.data.iterators | grouped total_num_itrs = 7
2026-11-27 21:13:43 | INFO | train_inner | epoch 001:      5 / 7 loss=7.389, ppl=167.66, num_updates=5, lr=0.0001
2026-11-27 21:13:44 | INFO | valid | epoch 001 | valid on 'valid' subset | loss 9.5 | num_updates 5
2026-11-27 21:13:45 | INFO | train | epoch 001 | loss 7.195 | nll_loss 3 | ppl 146.5 | num_updates 7 | lr 0.0007
""".splitlines()


@pytest.mark.parametrize("max_update,max_epoch,total", [(12, 0, 12), (0, 3, 21)])
def test_the_progress_bar_follows_fairseq_trains_log_lines(max_update, max_epoch, total, monkeypatch):
    monkeypatch.setattr("shared_mask.progress.on_terminal", lambda: True)  # bars are drawn on a terminal only
    unit = SimpleNamespace(seed=0, level=1, ticket="winning")
    with UnitProgress(unit, max_update, max_epoch, enabled=True) as progress:
        seen = []
        for line in LINES:
            progress.line(line)
            seen.append((progress.bar.n, progress.bar.postfix))
        assert seen == [(4, None), (4, None), (5, "loss 7.389"), (5, "loss 7.389"), (7, "loss 7.195")]
        assert progress.bar.total == total
