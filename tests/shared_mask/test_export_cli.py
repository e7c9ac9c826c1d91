"""lth-export's domain-free part: unit folders are checked, unknown runs and bad paths fail in one line."""

import json

import pytest
import torch

import shared_mask as sm
from shared_mask.export import FinishedUnit, cli, export, registry


def make_unit(root, trainer_config, finished=True):
    """RUN/seed_0/level_01/winning with a config, a mask, final weights and (if finished) metrics."""
    (root / "config.json").parent.mkdir(parents=True, exist_ok=True)
    (root / "config.json").write_text(json.dumps({"lottery": {}, "trainer": trainer_config}))
    unit = root / "seed_0" / "level_01" / "winning"
    unit.mkdir(parents=True)
    sm.Mask({"w": torch.ones(2, 2, dtype=torch.bool)}).save(unit.parent / "mask.safetensors")
    (unit / "final.safetensors").write_bytes(b"")
    if finished:
        (unit / "metrics.json").write_text(
            json.dumps({"seed": 0, "level": 1, "ticket": "winning", "density": 0.8, "metrics": {"m": 1.0}})
        )
    return unit


def test_a_finished_unit_is_opened_with_its_run_config_and_metrics(tmp_path):
    unit = FinishedUnit.open(make_unit(tmp_path / "run", {"algo": "x"}))
    assert unit.final.name == "final.safetensors" and unit.mask.name == "mask.safetensors"
    assert unit.run_config["trainer"] == {"algo": "x"}
    assert unit.summary()["ticket"] == "winning" and unit.summary()["metrics"] == {"m": 1.0}


@pytest.mark.parametrize(
    "problem,message",
    [
        ("unfinished", "is not a finished unit: no metrics.json"),
        ("missing", "no such unit folder"),
        ("level", "is not a lottery unit folder"),
        ("mask", "the level's mask .* is missing"),
        ("weights", "has no final weights"),
    ],
)
def test_folders_that_are_not_finished_units_are_refused(tmp_path, problem, message):
    unit = make_unit(tmp_path / "run", {"algo": "x"}, finished=problem != "unfinished")
    path = {"missing": unit / "nope", "level": unit.parent}.get(problem, unit)
    if problem == "mask":
        (unit.parent / "mask.safetensors").unlink()
    if problem == "weights":
        (unit / "final.safetensors").unlink()
    with pytest.raises(ValueError, match=message):
        FinishedUnit.open(path)


def test_a_run_no_exporter_handles_is_refused(tmp_path):
    unit = make_unit(tmp_path / "run", {"experiment": "mystery"})
    with pytest.raises(ValueError, match="no installed exporter handles this run's config.json"):
        export(unit, tmp_path / "out.safetensors")
    with pytest.raises(ValueError, match="no exporter named 'nope' is installed"):
        registry.by_name("nope")


def test_the_domains_register_through_entry_points():
    assert {"rl", "fairseq"} <= set(registry._entry_points())


def test_cli_errors_are_one_line_and_exit_2(tmp_path, capsys):
    unit = make_unit(tmp_path / "run", {"algo": "x"}, finished=False)
    with pytest.raises(SystemExit) as exit_info:
        cli.main([str(unit), "--out", str(tmp_path / "out.safetensors")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("lth-export: error: ") and "not a finished unit" in err
    (tmp_path / "junk.safetensors").write_bytes(b"junk")
    with pytest.raises(SystemExit):
        cli.main([str(tmp_path / "junk.safetensors"), "--out", str(tmp_path / "x.pt")])
    assert "junk.safetensors is not a valid sparse ticket file" in capsys.readouterr().err
    assert not (tmp_path / "out.safetensors").exists() and not (tmp_path / "x.pt").exists()
