"""The children's launcher (fairseq_lth.driver.fairseq_program) behaves as ``python -m`` would: the same
argv, exit status, exit handlers and output, only without the interpreter's teardown."""

import os
import subprocess
import sys

import pytest

from fairseq_lth.driver.processes import fairseq_program

PROGRAM = """
import atexit, sys

def report(path):
    with open(path, "w") as f:
        f.write("exit handler ran")

def run(argv):
    atexit.register(report, argv[0])
    print("out", *argv[1:])  # piped: block-buffered until the exit flushes it
    print("err", file=sys.stderr)
    if argv[1:] == ["status"]:
        sys.exit(3)
    if argv[1:] == ["message"]:
        sys.exit("a message")
    if argv[1:] == ["crash"]:
        raise RuntimeError("crashed")

if __name__ == "__main__":
    run(sys.argv[1:])
"""


@pytest.fixture
def program(tmp_path):
    (tmp_path / "lth_program.py").write_text(PROGRAM)
    return tmp_path


def launch(folder, target, *args):
    """``target`` (a module in ``folder``) run with ``args`` through the launcher."""
    return subprocess.run(
        [*fairseq_program(target), *map(str, args)],
        cwd=folder,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(folder), *sys.path])},
    )


@pytest.mark.parametrize("target", ["lth_program", "lth_program:run"])
@pytest.mark.parametrize(
    "args, status, stderr_end",
    [((), 0, "err\n"), (("status",), 3, "err\n"), (("message",), 1, "a message\n"), (("crash",), 1, "crashed\n")],
)
def test_status_output_and_exit_handlers_are_those_of_python(program, target, args, status, stderr_end):
    done = launch(program, target, program / "handler.txt", *args)
    plain = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, lth_program; lth_program.run(sys.argv[1:])",
            str(program / "plain.txt"),
            *args,
        ],
        cwd=program,
        capture_output=True,
        text=True,
    )
    assert (
        (done.returncode, done.stdout) == (plain.returncode, plain.stdout) == (status, " ".join(["out", *args]) + "\n")
    )
    assert done.stderr.endswith(stderr_end) and plain.stderr.endswith(stderr_end)
    assert (program / "handler.txt").read_text() == "exit handler ran"


SPAWNING = """
import multiprocessing, sys

def work(path):
    open(path, "w").write("child ran")

if __name__ == "__main__":
    child = multiprocessing.get_context("spawn").Process(target=work, args=(sys.argv[1],))
    child.start()
    child.join()
    sys.exit(child.exitcode)
"""


def test_a_program_run_as_main_can_spawn_processes(tmp_path):
    """fairseq-train on GPUs starts its ranks with torch.multiprocessing.spawn: each child re-imports the
    program's __main__ module by name, which must be the program's, not the launcher's."""
    (tmp_path / "lth_spawning.py").write_text(SPAWNING)
    done = launch(tmp_path, "lth_spawning", tmp_path / "child.txt")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "child.txt").read_text() == "child ran"
