"""fairseq-lth-imp refuses a bad command with one line, exit status 2 and nothing written; the corrected
command then runs in the same folder. A unit that fails at scoring is one line and resumes at scoring."""

import subprocess
import sys

import pytest

from fairseq_lth.driver import imp, task_kinds
from fairseq_lth.driver.processes import run_logged

from .conftest import BIN, MODEL_ARGS

pytestmark = pytest.mark.duration(55)

PREFIX = "fairseq-lth-imp: error: "


def argv(data, out, *ours, train=MODEL_ARGS) -> list[str]:
    return [
        "--data",
        str(data),
        "--out",
        str(out),
        "--levels",
        "0",
        "--seeds",
        "0",
        "--rewind",
        "4it",
        "--average-last",
        "1",
        "--beam",
        "1",
        "--cpu",
        "--no-progress",
        *ours,
        "--",
        *train,
    ]


def refused(capfd, command: list[str]) -> str:
    """The one error line of ``command`` run in-process (exit status 2, nothing else on stderr)."""
    with pytest.raises(SystemExit) as exited:
        imp.main(command)
    assert exited.value.code == 2
    err = capfd.readouterr().err
    assert len(err.splitlines()) == 1 and err.startswith(PREFIX), err
    return err[len(PREFIX) :]


def snapshot(folder):
    return (
        sorted((str(p.relative_to(folder)), p.stat().st_mtime_ns) for p in folder.rglob("*"))
        if folder.is_dir()
        else folder.exists()
    )


@pytest.mark.parametrize(
    "case,message",
    [
        ("no --data", "the following arguments are required: --data"),
        ("data without dictionaries", "is not a binarized fairseq data directory for --task lottery_translation"),
        ("missing data", "no such directory"),
        ("--rate 1.0", "pruning rate must be in (0, 1), got 1.0"),
        ("--rewind 1xx", "invalid step '1xx'"),
        ("reserved flag", "the driver sets these options itself; remove them from the fairseq-train arguments"),
        ("no fairseq-train arguments", "give the fairseq-train arguments after --"),
        ("out not a run folder", "is not empty and holds no config.json: not a run folder"),
        ("out a file", "is a file, not a run folder"),
        ("out unwritable", "cannot write the run folder /proc/run"),
        ("--gen-subset tset", "has no 'tset' subset, the scoring subset (--gen-subset)"),
        ("--valid-subset vld", "has no 'vld' subset, a validation subset (--valid-subset)"),
        ("--max-updat 20", "fairseq-train arguments: unrecognized arguments: --max-updat 20"),
        ("--arch transfomer", "invalid choice: 'transfomer' (did you mean transformer"),
        ("no --arch", "name no model: add --arch"),
        ("no --optimizer", "name no optimizer"),
        ("heads", "the fairseq-train arguments build no model: embed_dim must be divisible by num_heads"),
        ("--lr nan", "argument --lr: invalid <lambda> value: 'nan'"),
        ("--clip-norm inf", "--clip-norm inf: expected finite numbers"),
        ("--adam-eps=-1", "--optimizer adam: its eps must be >= 0, got -1.0"),
        ("--adam-betas", "--optimizer adam: its betas must be in [0, 1), got (0.9, 1.5)"),
        ("no end of training", "never end training: give every unit the same budget with --max-update or --max-epoch"),
        ("rewind between saves", "--rewind 3it: the rewind point is update 3, but --save-interval-updates 2"),
        ("rewind after training", "--rewind 8it: the dense run ends at --max-update 8, before the rewind point"),
        ("finetune without a budget", "the finetune ticket trains for --finetune-budget: give one"),
        ("no pruning batches", "pruning batches must be at least 1, got 0"),
    ],
)
def test_a_bad_command_is_one_line_and_writes_nothing(data, tmp_path, capfd, case, message):
    out = tmp_path / "run"
    command = {
        "no --data": ["--out", str(out), "--", *MODEL_ARGS],
        "data without dictionaries": argv(tmp_path, out),
        "missing data": argv(tmp_path / "nowhere", out),
        "--rate 1.0": argv(data, out, "--rate", "1.0"),
        "--rewind 1xx": argv(data, out, "--rewind", "1xx"),
        "reserved flag": argv(data, out, train=[*MODEL_ARGS, "--save-dir", "x"]),
        "no fairseq-train arguments": argv(data, out)[: -len(MODEL_ARGS) - 1],
        "out not a run folder": argv(data, tmp_path),
        "out a file": argv(data, tmp_path / "notes.txt"),
        "out unwritable": argv(data, "/proc/run"),
        "--gen-subset tset": argv(data, out, "--gen-subset", "tset"),
        "--valid-subset vld": argv(
            data, out, train=[a for a in MODEL_ARGS if a != "--disable-validation"] + ["--valid-subset", "vld"]
        ),
        "--max-updat 20": argv(data, out, train=[*MODEL_ARGS, "--max-updat", "20"]),
        "--arch transfomer": argv(data, out, train=[*MODEL_ARGS, "--arch", "transfomer"]),
        "no --arch": argv(data, out, train=MODEL_ARGS[2:]),
        "no --optimizer": argv(data, out, train=[a for a in MODEL_ARGS if a not in ("--optimizer", "adam")]),
        "heads": argv(data, out, train=[*MODEL_ARGS, "--encoder-attention-heads", "3"]),
        "--lr nan": argv(data, out, train=[*MODEL_ARGS, "--lr", "nan"]),
        "--clip-norm inf": argv(data, out, train=[*MODEL_ARGS, "--clip-norm", "inf"]),
        "--adam-eps=-1": argv(data, out, train=[*MODEL_ARGS, "--adam-eps=-1"]),
        "--adam-betas": argv(data, out, train=[*MODEL_ARGS, "--adam-betas", "(0.9, 1.5)"]),
        "no end of training": argv(data, out, "--rewind", "0", train=[*MODEL_ARGS, "--max-update", "0"]),
        "rewind between saves": argv(data, out, "--rewind", "3it"),
        "rewind after training": argv(data, out, "--rewind", "8it"),
        "finetune without a budget": argv(data, out, "--tickets", "winning", "finetune"),
        "no pruning batches": argv(data, out, "--pruning", "grasp", "--pruning-batches", "0"),
    }[case]
    (tmp_path / "notes.txt").write_text("mine\n")
    before = snapshot(tmp_path)
    assert message in refused(capfd, command)
    assert snapshot(tmp_path) == before


def test_the_console_script_prints_only_the_error_line(data, tmp_path):
    result = subprocess.run(
        [str(BIN / "fairseq-lth-imp"), *argv(data, tmp_path / "run", "--gen-subset", "tset")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [f"{PREFIX}{data} has no 'tset' subset, the scoring subset (--gen-subset)"]
    assert not (tmp_path / "run").exists()


def test_the_corrected_command_runs_in_the_folder_the_bad_ones_left_alone(data, tmp_path, capfd):
    out = tmp_path / "run"
    for mistake in (
        ["--max-updat", "20"],
        ["--arch", "transfomer"],
        ["--save-interval-updates", "3"],
        ["--adam-eps=-1"],
        ["--lr", "nan"],
    ):
        refused(capfd, argv(data, out, train=[*MODEL_ARGS, *mistake]))
        assert not out.exists(), mistake
    imp.main(argv(data, out))
    assert "0,0,1.0,0.0,dense,bleu," in (out / "results.csv").read_text()


def test_a_unit_that_fails_at_scoring_is_one_line_and_resumes_at_scoring(data, tmp_path, capfd, monkeypatch):
    out = tmp_path / "run"
    unit = out / "seed_0" / "level_00" / "dense"
    kind = task_kinds.TASKS["lottery_translation"]

    def failing(data, checkpoint, evaluation, work_dir):
        run_logged(
            "fairseq-generate",
            [sys.executable, "-c", "import sys; sys.exit('MemoryError: out of memory')"],
            work_dir / "generate-test.txt",
        )

    monkeypatch.setitem(task_kinds.TASKS, "lottery_translation", type(kind)(**{**vars(kind), "evaluate": failing}))
    message = refused(capfd, argv(data, out))
    assert message == (
        f"unit seed 0 level 0 dense failed: ProcessFailed: fairseq-generate exited with status 1: "
        f"MemoryError: out of memory (log: {unit / 'generate-test.txt'}) (its log: {unit / 'train.log'})\n"
    )
    assert (unit / "final.pt").is_file() and (unit / "checkpoints" / "checkpoint_last.pt").is_file()
    assert not (unit / "metrics.json").exists()
    monkeypatch.undo()
    imp.main(argv(data, out))
    assert (unit / "metrics.json").is_file() and not (unit / "checkpoints").exists()
    assert (unit / "train.log").read_text().count("done training") == 1
