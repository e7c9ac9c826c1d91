"""Bad plugin options, masks and paths fail at start-up with clear messages (in-process, no training)."""

import re

import pytest
from fairseq import options, tasks
from fairseq.dataclass.utils import convert_namespace_to_omegaconf

from fairseq_lth.driver.evaluate import EvalConfig
from fairseq_lth.driver.processes import PLUGIN_DIR
from fairseq_lth.driver.trainer import FairseqTrainer

from .conftest import MODEL_ARGS


def setup(data, save_dir, *lth_args):
    """What fairseq-train does first: parse, set up the task."""
    args = options.parse_args_and_arch(
        options.get_training_parser(),
        [
            str(data),
            "--user-dir",
            PLUGIN_DIR,
            "--task",
            "lottery_translation",
            *MODEL_ARGS,
            "--save-dir",
            str(save_dir),
            *map(str, lth_args),
        ],
    )
    cfg = convert_namespace_to_omegaconf(args)
    return cfg, tasks.setup_task(cfg.task)


def build(data, save_dir, *lth_args):
    """What fairseq-train does before training: parse, set up the task, build the model."""
    cfg, task = setup(data, save_dir, *lth_args)
    return task.build_model(cfg.model)


@pytest.fixture
def rewind(tmp_path):
    path = tmp_path / "rewind.pt"
    path.write_bytes(b"")  # only its existence is checked before training
    return path


@pytest.mark.parametrize(
    "lth_args,error,message",
    [
        (["--lth-mask", "{tmp}/missing.safetensors"], FileNotFoundError, "mask file not found"),
        (["--lth-mask", "{tmp}/rewind.pt"], ValueError, "not a valid mask file"),
        (["--lth-mask", "{mask}", "--lth-scope", "no_embeddings"], ValueError, "another --lth-scope"),
        (["--lth-ticket", "random_mask"], ValueError, "needs the level's mask"),
        (["--lth-rewind-checkpoint", "{tmp}/r.pt", "--lth-rewind-updates", "3"], ValueError, "--save-interval-updates"),
        (
            ["--lth-rewind-checkpoint", "{tmp}/r.pt", "--lth-rewind-epochs", "1", "--save-interval", "2"],
            ValueError,
            "--save-interval 2",
        ),
        (["--lth-rewind-checkpoint", "{tmp}/r.pt", "--lth-rewind-updates", "0"], ValueError, "nothing to capture"),
    ],
)
def test_bad_options_fail_before_training(data, tmp_path, mask, rewind, lth_args, error, message, capsys, monkeypatch):
    lth_args = [a.format(tmp=tmp_path, mask=mask) for a in lth_args]
    refused(capsys, monkeypatch, error, message, build, data, tmp_path / "run", "--continue-once", rewind, *lth_args)


def refused(capsys, monkeypatch, error, message, call, *args):
    """``call(*args)`` ends a fairseq program with one line naming the problem and exit status 2, and
    raises the ``error`` itself with LTH_DEBUG=1."""
    with pytest.raises(SystemExit) as exit_info:
        call(*args)
    assert exit_info.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("fairseq_lth: error: ") and re.search(message, lines[0])
    with monkeypatch.context() as debug:
        debug.setenv("LTH_DEBUG", "1")
        with pytest.raises(error, match=message):
            call(*args)


def test_translation_rewinds_after_1000_updates_unless_told_otherwise(data, tmp_path):
    assert str(setup(data, tmp_path)[1].lottery.point) == "update 1000"
    assert str(setup(data, tmp_path, "--lth-rewind-epochs", 1)[1].lottery.point) == "end of epoch 1"


def test_ticket_needs_an_existing_rewind_checkpoint(data, tmp_path, mask, capsys, monkeypatch):
    refused(capsys, monkeypatch, ValueError, "pass --continue-once", build, data, tmp_path, "--lth-mask", mask)
    nope = tmp_path / "nope.pt"
    refused(
        capsys,
        monkeypatch,
        FileNotFoundError,
        "rewind checkpoint not found",
        build,
        data,
        tmp_path,
        "--lth-mask",
        mask,
        "--continue-once",
        nope,
    )


def test_resume_needs_no_rewind_checkpoint(data, tmp_path, mask):
    (tmp_path / "checkpoint_last.pt").write_bytes(b"")
    build(data, tmp_path, "--lth-mask", mask)  # resumes from checkpoint_last.pt


def test_unknown_ticket_kind_is_refused_naming_the_registered_ones(data, tmp_path, capsys, monkeypatch):
    message = "unknown ticket kind 'lucky'; choose one of winning, random_reinit"
    refused(capsys, monkeypatch, ValueError, message, build, data, tmp_path, "--lth-ticket", "lucky")


def test_driver_refuses_options_it_sets_and_non_data_folders(data, tmp_path):
    with pytest.raises(ValueError, match="--save-dir"):
        FairseqTrainer(str(data), [*MODEL_ARGS, "--save-dir", "x"], "all", EvalConfig())
    with pytest.raises(FileNotFoundError, match="not a binarized fairseq data directory"):
        FairseqTrainer(str(tmp_path), MODEL_ARGS, "all", EvalConfig())
