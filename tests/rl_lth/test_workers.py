"""CartPole lotteries and sweeps whose units train at once on Ray, through `rl-lth`."""

import pytest

import shared_mask as sm
from rl_lth.cli import main
from shared_mask.report.cli import main as report

pytestmark = pytest.mark.filterwarnings("ignore:.*precision lowered by casting")
TINY = [
    "--epochs",
    "2",
    "--batches-per-epoch",
    "10",
    "--last-episodes",
    "10",
    "--width",
    "16",
    "--no-progress",
    "--levels",
    "2",
    "--seeds",
    "0",
    "1",
    "--tickets",
    "winning",
    "random_reinit",
    "random_mask",
]


def test_two_workers_give_the_in_process_masks_and_results(ray_cluster, tmp_path):
    main(["run", "--env", "CartPole-v0", "--out", str(tmp_path / "one"), *TINY])
    main(["run", "--env", "CartPole-v0", "--out", str(tmp_path / "two"), *TINY, "--workers", "2"])
    for seed in (0, 1):
        for level in (0, 1, 2):
            path = f"seed_{seed}/level_{level:02d}/mask.safetensors"
            one, two = sm.Mask.load(tmp_path / "one" / path), sm.Mask.load(tmp_path / "two" / path)
            assert one.names() == two.names()
            for name, keep in one.items():
                assert two[name].equal(keep), (path, name)
    assert (tmp_path / "one" / "results.csv").read_text() == (tmp_path / "two" / "results.csv").read_text()


def test_a_sweep_writes_one_run_folder_per_game_that_the_report_reads(ray_cluster, tmp_path, capsys):
    out = tmp_path / "sweep"
    main(
        [
            "sweep",
            "--envs",
            "CartPole-v0",
            "CartPole-v1",
            "--out",
            str(out),
            "--workers",
            "2",
            *TINY[:8],
            "--levels",
            "1",
            "--seeds",
            "0",
        ]
    )
    for env in ("CartPole-v0", "CartPole-v1"):
        rows = (out / env / "results.csv").read_text().splitlines()
        assert len(rows) == 1 + 3  # header, dense, winning and random_reinit of level 1
    report([str(out / "CartPole-v0"), str(out / "CartPole-v1"), "--out", str(tmp_path / "report")])
    assert (tmp_path / "report" / "grid.png").is_file()
    assert "CartPole-v1" in (tmp_path / "report" / "summary.md").read_text()


def test_a_sweep_refuses_games_of_different_algorithms(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_status:
        main(["sweep", "--envs", "CartPole-v0", "Breakout-v5", "--out", str(tmp_path / "x")])
    assert exit_status.value.code == 2
    assert "mixes games of different algorithms (a2c, elf)" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
