"""`rl-lth run` and `rl-lth demo` on tiny CartPole budgets: the run folder, resume, error messages."""
import csv
import json

import pytest
import shared_mask as sm

from rl_lth import demo
from rl_lth.cli import main

pytestmark = pytest.mark.filterwarnings("ignore:.*precision lowered by casting")
TINY = ["--epochs", "2", "--batches-per-epoch", "10", "--last-episodes", "10", "--width", "16", "--no-progress"]


def _run(out, *extra):
    main(["run", "--env", "CartPole-v0", "--out", str(out), "--levels", "2", "--seeds", "0", "1", *TINY, *extra])


def _rows(out):
    with open(out / "results.csv") as f:
        return list(csv.DictReader(f))


def test_run_writes_the_run_folder_and_resumes(tmp_path, capsys):
    out = tmp_path / "run"
    _run(out)
    rows = _rows(out)
    assert len(rows) == 2 * (1 + 2 * 2)
    assert {r["ticket"] for r in rows} == {"dense", "winning", "random_reinit"}
    assert {r["metric"] for r in rows} == {"ticket_reward"}
    assert json.loads((out / "config.json").read_text())["trainer"]["experiment"] == "CartPole-v0"
    for seed in (0, 1):
        assert (out / f"seed_{seed}" / "rewind.safetensors").exists()
        assert sm.Mask.load(out / f"seed_{seed}" / "level_02" / "mask.safetensors").density() == pytest.approx(0.64, abs=1e-3)

    # an interrupted unit is redone; finished ones are skipped and the masks are unchanged
    redo = out / "seed_1" / "level_02" / "winning"
    (redo / "metrics.json").unlink()
    kept = out / "seed_0" / "level_01" / "winning" / "metrics.json"
    kept_time, mask_bytes = kept.stat().st_mtime_ns, (out / "seed_1" / "level_02" / "mask.safetensors").read_bytes()
    before = {(r["seed"], r["level"], r["ticket"]): r["value"] for r in rows}
    capsys.readouterr()
    _run(out)
    printed = capsys.readouterr().out
    assert "seed 1 level  2 winning" in printed and "seed 0 level  1" not in printed
    assert kept.stat().st_mtime_ns == kept_time
    assert (out / "seed_1" / "level_02" / "mask.safetensors").read_bytes() == mask_bytes
    after = {(r["seed"], r["level"], r["ticket"]): r["value"] for r in _rows(out)}
    assert after == before  # the redone unit is deterministic given the seed
    assert "random_reinit" in printed and "pruned" in printed  # the summary table


def test_rewind_zero_and_one_shot(tmp_path):
    _run(tmp_path / "oneshot", "--rewind", "0", "--schedule", "oneshot", "--tickets", "winning")
    rows = _rows(tmp_path / "oneshot")
    assert {round(float(r["density"]), 3) for r in rows} == {1.0, 0.8, 0.64}


@pytest.mark.parametrize("args, message", [
    (["--env", "Pendulum-v9"], "unknown env id 'Pendulum-v9'"),
    (["--env", "CartPole-v0", "--rate", "1.2"], "pruning rate must be in (0, 1)"),
    (["--env", "CartPole-v0", "--levels", "-1"], "levels must be a non-negative integer"),
    (["--env", "CartPole-v0", "--rewind", "3"], "invalid step '3'"),
    (["--env", "CartPole-v0", "--rewind", "9epochs"], "after the end of training"),
])
def test_bad_arguments_are_clear_errors(tmp_path, capsys, args, message):
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--out", str(tmp_path / "run"), *args, *TINY])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("rl-lth: error: ") and message in err and "Traceback" not in err
    assert not (tmp_path / "run").exists()


def test_a_folder_with_another_configuration_is_refused(tmp_path, capsys):
    out = tmp_path / "run"
    main(["run", "--env", "CartPole-v0", "--out", str(out), "--levels", "0", "--seeds", "0", *TINY])
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--env", "CartPole-v0", "--out", str(out), "--levels", "0", "--seeds", "0", *TINY,
              "--lr", "0.001"])
    assert exit_info.value.code == 2
    assert "different configuration" in capsys.readouterr().err


def test_demo_prints_a_table_and_draws_a_figure(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(demo, "EPOCHS", 2)
    monkeypatch.setattr(demo, "BATCHES_PER_EPOCH", 10)
    monkeypatch.setattr(demo, "LOTTERY", dict(demo.LOTTERY, levels=1, seeds=[0, 1]))
    main(["demo", "--out", str(tmp_path / "demo"), "--no-progress"])
    printed = capsys.readouterr().out
    assert "(dense)" in printed and "0.500" in printed and "winning" in printed
    assert (tmp_path / "demo" / "figure.png").read_bytes()[:4] == b"\x89PNG"
