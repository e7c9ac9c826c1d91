"""benchmarks/gpu_check.py without a GPU: every check skipped with its reason, the JSON it writes, its
argument checks, and a check that breaks reported as failed while the others still run."""

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("gpu_check", ROOT / "benchmarks" / "gpu_check.py")
gpu_check = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gpu_check)


def test_without_cuda_every_check_is_skipped_with_its_reason(tmp_path, capsys):
    assert gpu_check.main(["--out", str(tmp_path / "gpu.json")]) == 0
    report = json.loads((tmp_path / "gpu.json").read_text())
    assert report["gpus"] == 0 and report["device"] is None
    assert list(report["checks"]) == list(gpu_check.CHECKS)
    assert report["checks"]["fairseq_two_gpus"] == {"status": "skipped", "verdict": "needs 2 CUDA devices, found 0"}
    assert all(r["status"] == "skipped" for r in report["checks"].values())
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "prune: SKIPPED: needs 1 CUDA device, found 0"
    assert lines[-1] == "gpu_check: 5 of 5 checks passed or skipped"


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--checks", "nope"], "invalid choice: 'nope'"),
        (["--out", "{tmp}"], "expected a file in an existing folder"),
        (["--out", "{tmp}/missing/gpu.json"], "expected a file in an existing folder"),
    ],
)
def test_bad_arguments_are_one_line_and_status_2(tmp_path, capsys, argv, message):
    argv = [a.format(tmp=tmp_path) for a in argv]
    with pytest.raises(SystemExit) as status:
        gpu_check.main((["--out", str(tmp_path / "gpu.json")] if "--out" not in argv else []) + argv)
    assert status.value.code == 2 and message in capsys.readouterr().err


def test_a_check_that_breaks_fails_alone(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(gpu_check.torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(gpu_check.torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(gpu_check.torch.cuda, "get_device_name", lambda index: "a test device")

    def broken(work):
        raise RuntimeError("the driver died")

    monkeypatch.setitem(gpu_check.CHECKS, "prune", (broken, 1))
    monkeypatch.setitem(
        gpu_check.CHECKS, "atari", (lambda work: {"ok": True, "verdict": "fast", "figures": {"x": 1}}, 1)
    )
    assert gpu_check.main(["--out", str(tmp_path / "gpu.json"), "--checks", "prune", "atari", "fairseq_two_gpus"]) == 1
    checks = json.loads((tmp_path / "gpu.json").read_text())["checks"]
    assert checks["prune"]["status"] == "fail" and checks["prune"]["verdict"] == "RuntimeError: the driver died"
    assert checks["atari"]["status"] == "pass" and checks["atari"]["figures"] == {"x": 1}
    assert checks["fairseq_two_gpus"]["status"] == "skipped"
    assert capsys.readouterr().out.splitlines()[-1] == "gpu_check: 2 of 3 checks passed or skipped; failed: prune"
