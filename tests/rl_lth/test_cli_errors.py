"""The bad-input catalogue of `rl-lth run`: exit status 2, one line, nothing written; and the fixed
command then runs in the same folder."""

import json
import re

import pytest

import shared_mask as sm
from rl_lth.cli import main

pytestmark = pytest.mark.filterwarnings("ignore:.*precision lowered by casting")
TINY = [
    "--epochs",
    "1",
    "--batches-per-epoch",
    "20",
    "--last-episodes",
    "5",
    "--width",
    "8",
    "--no-progress",
    "--levels",
    "1",
    "--seeds",
    "0",
]
ATARI_TINY = [
    "--preset",
    "tiny",
    "--epochs",
    "1",
    "--batches-per-epoch",
    "3",
    "--rewind",
    "1batches",
    "--no-progress",
    "--levels",
    "0",
    "--seeds",
    "0",
]


def fails(capsys, argv) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert re.match(r"rl-lth( run)?: error: ", err) and err.count("\n") == 1 and "Traceback" not in err
    return err


@pytest.mark.parametrize(
    "flag, message",
    [
        (["--gamma", "nan"], "expected a finite number, got 'nan'"),
        (["--lr", "inf"], "expected a finite number, got 'inf'"),
        (["--gamma", "1.5"], "gamma must be in [0, 1], got 1.5"),
        (["--alpha", "-0.1"], "alpha must be in [0, 1]"),
        (["--keep-weights", "some"], "invalid choice: 'some'"),
        (["--device", "gpu"], "unknown device 'gpu'"),
    ],
)
def test_a_bad_value_is_refused_before_anything_is_written_and_the_fix_runs(tmp_path, capsys, flag, message):
    out = tmp_path / "run"
    assert message in fails(capsys, ["run", "--env", "CartPole-v0", "--out", str(out), *TINY, *flag])
    assert not out.exists()
    main(["run", "--env", "CartPole-v0", "--out", str(out), *TINY])  # the corrected command, same folder
    assert (out / "results.csv").is_file()


@pytest.mark.parametrize(
    "flag, message",
    [
        (["--beta1", "1.5"], "beta1 must be in [0, 1], got 1.5"),
        (["--beta2", "1"], "Adam's betas must be below 1"),
        (["--device", "gpu"], "unknown device 'gpu'"),
    ],
)
def test_bad_atari_settings_are_refused(tmp_path, capsys, flag, message):
    out = tmp_path / "run"
    assert message in fails(capsys, ["run", "--env", "Breakout-v5", "--out", str(out), *ATARI_TINY, *flag])
    assert not out.exists()


def test_an_out_that_is_a_file_or_cannot_be_written_is_one_line(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    assert "notes.txt is a file, not a run folder" in fails(
        capsys, ["run", "--env", "CartPole-v0", "--out", str(tmp_path / "notes.txt"), *TINY]
    )
    assert "cannot write the run folder" in fails(
        capsys, ["run", "--env", "CartPole-v0", "--out", str(tmp_path / "notes.txt" / "run"), *TINY]
    )
    assert (tmp_path / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize("content", ["[]", '{"lottery": 3, "trainer": {}}', "{not json"])
def test_a_config_json_of_the_wrong_shape_is_one_line(tmp_path, capsys, content):
    out = tmp_path / "run"
    out.mkdir()
    (out / "config.json").write_text(content)
    err = fails(capsys, ["run", "--env", "CartPole-v0", "--out", str(out), *TINY])
    assert "config.json is not a run configuration" in err or "config.json is corrupt" in err
    assert (out / "config.json").read_text() == content


def test_a_budget_too_short_to_finish_an_episode_keeps_the_weights_and_says_the_fix(tmp_path, capsys):
    out = tmp_path / "run"
    err = fails(
        capsys,
        ["run", "--env", "CartPole-v0", "--out", str(out), *TINY, "--batches-per-epoch", "2", "--rewind", "1batches"],
    )
    assert "unit seed 0 level 0 dense failed" in err
    assert "no episode of CartPole-v0 finished in the unit's 2 batches" in err and "--batches-per-epoch" in err
    dense = out / "seed_0" / "level_00" / "dense"
    assert (dense / "final.safetensors").is_file() and not (dense / "metrics.json").exists()


def test_keep_weights_needed_drops_only_the_random_tickets_weights(tmp_path):
    out = tmp_path / "run"
    main(
        [
            "run",
            "--env",
            "CartPole-v0",
            "--out",
            str(out),
            *TINY,
            "--keep-weights",
            "needed",
            "--tickets",
            "winning",
            "random_reinit",
            "random_mask",
        ]
    )
    level = out / "seed_0" / "level_01"
    assert (out / "seed_0" / "level_00" / "dense" / "final.safetensors").is_file()
    assert (level / "winning" / "final.safetensors").is_file()
    for ticket in ("random_reinit", "random_mask"):
        assert not (level / ticket / "final.safetensors").exists() and (level / ticket / "metrics.json").is_file()
    main(
        [
            "run",
            "--env",
            "CartPole-v0",
            "--out",
            str(out),
            *TINY,
            "--keep-weights",
            "all",
            "--levels",
            "2",
            "--tickets",
            "winning",
            "random_reinit",
            "random_mask",
        ]
    )  # a rerun may keep everything from now on
    assert (out / "seed_0" / "level_02" / "random_mask" / "final.safetensors").is_file()
    assert json.loads((out / "config.json").read_text())["lottery"]["keep_weights"] == "all"
    assert sm.Mask.load(out / "seed_0" / "level_02" / "mask.safetensors").density() == pytest.approx(0.64, abs=1e-3)
