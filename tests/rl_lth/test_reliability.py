"""The reliability probes of `rl-lth`, `lth-report` and `lth-export` (issue 21), each kept as a test: files
are checked for what they claim to be, one driver runs a folder, the fix an error suggests is accepted,
and every failure is one line with exit status 2."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import pytest

from rl_lth.cli import main
from shared_mask import tensor_file
from shared_mask.export import cli as export_cli
from shared_mask.report import cli as report_cli

pytestmark = pytest.mark.filterwarnings("ignore:.*precision lowered by casting")
# The R: a CartPole lottery of two levels (densities 0.8, 0.64), narrow for speed.
R = ["run", "--env", "CartPole-v0", "--epochs", "1", "--batches-per-epoch", "20", "--last-episodes", "5"]
R += ["--levels", "2", "--seeds", "0", "1", "--width", "8", "--no-progress"]
LINE = r"(rl-lth|lth-export|lth-report)( run)?: error: "


def fails(capsys, command, argv) -> str:
    """Run a CLI expecting one error line and exit status 2; return that line."""
    try:
        code = command(argv)
    except SystemExit as exit_info:
        code = exit_info.code
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert re.match(LINE, err) and "Traceback" not in err
    return err


def with_out(argv, out):
    return [*argv, "--out", str(out)]


def batches(argv, count):
    """``argv`` with ``count`` batches per epoch."""
    i = argv.index("--batches-per-epoch")
    return [*argv[: i + 1], str(count), *argv[i + 2 :]]


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    out = tmp_path_factory.mktemp("rel") / "base"
    main(with_out(R, out))
    return out


@pytest.fixture
def copy(base, tmp_path):
    def make(name="copy"):
        return shutil.copytree(base, tmp_path / name)

    return make


def density(run, level, ticket="winning", seed=0):
    record = json.loads((run / f"seed_{seed}" / f"level_{level:02d}" / ticket / "metrics.json").read_text())
    return record["density"]


def swap(a, b):
    tmp = a.with_name("swap.tmp")
    os.replace(a, tmp), os.replace(b, a), os.replace(tmp, b)


@pytest.mark.parametrize(
    "first, second",
    [("seed_0/level_01", "seed_0/level_02"), ("seed_0/level_02", "seed_1/level_02")],
    ids=["levels", "seeds"],
)
def test_masks_swapped_between_levels_or_seeds_are_refused(base, copy, capsys, first, second):
    assert density(base, 2) == pytest.approx(0.64, abs=0.01)
    run = copy()
    swap(run / first / "mask.safetensors", run / second / "mask.safetensors")
    err = fails(capsys, main, with_out([*R, "--levels", "3"], run))
    assert "mask.safetensors holds the mask of seed" in err and "put this level's own mask file back" in err
    assert not (run / "seed_0" / "level_03").exists()
    swap(run / first / "mask.safetensors", run / second / "mask.safetensors")  # put back: the run goes on
    main(with_out([*R, "--levels", "3"], run))
    assert density(run, 3) == pytest.approx(0.8**3, abs=0.01)


def test_a_hand_edited_config_is_named_in_the_rerun_the_report_and_the_export(copy, capsys, tmp_path):
    run = copy()
    config = run / "config.json"
    config.write_text(config.read_text().replace('"rate": 0.2', '"rate": 0.5'))
    assert "config.json was edited by hand" in fails(capsys, main, with_out([*R, "--rate", "0.5"], run))
    assert "config.json was edited by hand" in fails(capsys, report_cli.main, [str(run), "--out", str(tmp_path / "r")])
    unit = run / "seed_0" / "level_02" / "winning"
    assert "config.json was edited by hand" in fails(capsys, export_cli.main, [str(unit), "--out", str(tmp_path / "t")])
    assert not (tmp_path / "r").exists() and not (tmp_path / "t").exists()


def test_a_config_value_of_the_wrong_type_is_one_line(copy, capsys, tmp_path):
    run = copy()
    config = run / "config.json"
    config.write_text(config.read_text().replace('"levels": 2', '"levels": "two"'))
    message = "lottery.levels must be a non-negative integer, got 'two'"
    assert message in fails(capsys, main, with_out(R, run))
    assert message in fails(capsys, report_cli.main, [str(run), "--out", str(tmp_path / "r")])


def flip_byte(path, offset_from_end=40):
    data = bytearray(path.read_bytes())
    data[-offset_from_end] ^= 0x01
    path.write_bytes(bytes(data))


def test_a_flipped_byte_in_weights_or_an_export_is_refused_and_an_export_never_overwrites_its_source(
    base, copy, capsys, tmp_path
):
    ticket = tmp_path / "t.safetensors"
    export_cli.main([str(base / "seed_0" / "level_02" / "winning"), "--out", str(ticket)])
    run = copy()
    flip_byte(run / "seed_0" / "level_02" / "winning" / "final.safetensors")
    err = fails(capsys, export_cli.main, [str(run / "seed_0" / "level_02" / "winning"), "--out", str(tmp_path / "x")])
    assert "final.safetensors is corrupt" in err and not (tmp_path / "x").exists()

    before = ticket.read_bytes()
    assert "is the ticket being read" in fails(capsys, export_cli.main, [str(ticket), "--out", str(ticket)])
    assert ticket.read_bytes() == before
    dense = tmp_path / "d.safetensors"
    export_cli.main([str(ticket), "--out", str(dense)])
    tensor_file.load(dense)  # the unpacked weights carry a checksum too
    flip_byte(dense)
    with pytest.raises(ValueError, match="is corrupt"):
        tensor_file.load(dense)
    flip_byte(ticket)
    err = fails(capsys, export_cli.main, [str(ticket), "--out", str(tmp_path / "d2.safetensors")])
    assert "t.safetensors" in err and not (tmp_path / "d2.safetensors").exists()


def test_a_second_driver_is_refused_naming_the_first_and_a_dead_drivers_lock_is_taken_over(tmp_path, capsys):
    out = tmp_path / "two"
    dense = [*R, "--seeds", "0", "--levels", "0"]
    busy = batches(dense, 100000)  # a dense unit that trains until it is killed
    first = subprocess.Popen(
        [sys.executable, "-c", "from rl_lth.cli import main; main()", *with_out(busy, out)],
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        lock, deadline = out / ".driver.lock", time.monotonic() + 120
        while not (out / "seed_0").exists():  # the first driver holds the folder and trains
            assert first.poll() is None and time.monotonic() < deadline
            time.sleep(0.1)
        err = fails(capsys, main, with_out(busy, out))
        assert f"in use by another driver (process {first.pid} on " in err
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    assert f"process {first.pid}" in lock.read_text()  # the killed driver's lock file stays behind
    main(with_out(dense, out))  # taken over; and its unit had not finished, so the shorter budget is accepted
    assert (out / "results.csv").is_file() and f"process {os.getpid()}" in lock.read_text()


def test_the_budget_the_error_asks_for_is_accepted_in_the_same_folder(tmp_path, capsys):
    out = tmp_path / "b"
    short = batches([*R, "--seeds", "0", "--levels", "0", "--rewind", "1batches"], 1)
    err = fails(capsys, main, with_out(short, out))
    assert "rerun with more batches (--epochs, --batches-per-epoch" in err
    main(with_out(batches(short, 40), out))
    assert json.loads((out / "config.json").read_text())["trainer"]["batches_per_epoch"] == 40
    assert density(out, 0, "dense") == 1.0


def test_a_corrupt_transfer_source_claims_nothing_and_the_corrected_source_runs(base, copy, capsys, tmp_path):
    source = copy("trs")
    rewind = source / "seed_0" / "rewind.safetensors"
    rewind.write_bytes(rewind.read_bytes()[:100])
    out = tmp_path / "tfc"
    target = [*R, "--seeds", "0", "--levels", "1"]
    err = fails(capsys, main, with_out([*target, "--transfer-from", str(source / "seed_0" / "level_01")], out))
    assert "--transfer-from" in err and "rewind.safetensors" in err
    assert not out.exists()
    main(with_out([*target, "--transfer-from", str(base / "seed_0" / "level_01")], out))
    assert density(out, 1, "transfer") == pytest.approx(0.8, abs=0.01)


def test_non_finite_weights_fail_the_unit_and_the_fixed_learning_rate_is_accepted(tmp_path, capsys):
    out = tmp_path / "nan"
    dense = [*R, "--seeds", "0", "--levels", "0"]
    err = fails(capsys, main, with_out([*dense, "--lr", "1e38"], out))
    assert "unit seed 0 level 0 dense failed" in err and "not finite" in err and "--lr" in err
    assert not (out / "seed_0" / "level_00" / "dense" / "metrics.json").exists()
    main(with_out(dense, out))
    assert (out / "seed_0" / "level_00" / "dense" / "metrics.json").is_file()


def test_chain_with_the_oneshot_schedule_is_refused(tmp_path, capsys):
    argv = [*R, "--schedule", "oneshot", "--chain", "lr_rewind", "--tickets", "lr_rewind"]
    assert "has no effect with the oneshot schedule" in fails(capsys, main, with_out(argv, tmp_path / "o"))
    assert not (tmp_path / "o").exists()


def test_a_corrupt_metrics_json_is_named(copy, capsys, tmp_path):
    run = copy()
    metrics = run / "seed_0" / "level_01" / "winning" / "metrics.json"
    metrics.write_text("{not json")
    err = fails(capsys, export_cli.main, [str(metrics.parent), "--out", str(tmp_path / "t")])
    assert str(metrics) in err


@pytest.fixture
def full_dir(tmp_path, monkeypatch):
    """A folder on a full file system: a 600 kB tmpfs filled up where `mount` works (root), else writes into
    it fail with ENOSPC in this process (simulated)."""
    folder = tmp_path / "full"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=600k", "tmpfs", str(folder)], capture_output=True)
    if mounted.returncode == 0:
        filler = folder / "filler"
        with open(filler, "wb") as f, pytest.raises(OSError):
            while True:
                f.write(b"\0" * 65536)
                f.flush()
    else:
        real_open = open

        def full_open(file, mode="r", *args, **kwargs):
            if str(folder) in os.fspath(file) and any(c in mode for c in "wax+"):
                raise OSError(28, "No space left on device", str(file))
            return real_open(file, mode, *args, **kwargs)

        monkeypatch.setattr("builtins.open", full_open)
    yield folder
    if mounted.returncode == 0:
        subprocess.run(["umount", str(folder)], check=True)


def test_export_and_report_on_a_full_disk_are_one_line_and_leave_nothing(base, full_dir, capsys):
    unit = base / "seed_0" / "level_02" / "winning"
    err = fails(capsys, export_cli.main, [str(unit), "--out", str(full_dir / "t.safetensors")])
    assert "No space left on device" in err
    err = fails(capsys, report_cli.main, [str(base), "--out", str(full_dir / "rep")])
    assert "No space left on device" in err
    assert sorted(p.name for p in full_dir.iterdir()) in (["filler"], [])


def test_export_and_report_into_a_read_only_folder_or_onto_a_directory_are_one_line(base, tmp_path, capsys):
    unit, locked = base / "seed_0" / "level_02" / "winning", tmp_path / "ro"
    locked.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro", "tmpfs", str(locked)], capture_output=True)
    if mounted.returncode:
        locked.chmod(0o555)  # not root: a folder this user may not write
    try:
        fails(capsys, export_cli.main, [str(unit), "--out", str(locked / "t.safetensors")])
        fails(capsys, report_cli.main, [str(base), "--out", str(locked / "rep")])
        assert not list(locked.iterdir())
    finally:
        subprocess.run(["umount", str(locked)]) if mounted.returncode == 0 else locked.chmod(0o755)
    (tmp_path / "adir").mkdir()
    assert "is a directory" in fails(capsys, export_cli.main, [str(unit), "--out", str(tmp_path / "adir")])


def test_lth_debug_shows_the_traceback_with_its_cause(copy, monkeypatch, tmp_path):
    run = copy()
    flip_byte(run / "seed_0" / "level_02" / "winning" / "final.safetensors")
    monkeypatch.setenv("LTH_DEBUG", "1")
    with pytest.raises(ValueError, match="is corrupt"):
        export_cli.main([str(run / "seed_0" / "level_02" / "winning"), "--out", str(tmp_path / "x")])
    run_config = run / "config.json"
    run_config.write_text("{not json")
    with pytest.raises(ValueError, match="config.json is corrupt") as info:
        main(with_out(R, run))
    assert isinstance(info.value.__cause__, json.JSONDecodeError)


@pytest.fixture
def no_ray_yet(monkeypatch):
    """This process as a fresh driver's: not connected to Ray (other tests share one local cluster)."""
    import ray

    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    return ray


def test_a_ray_address_where_nothing_answers_fails_within_the_timeout(tmp_path, capsys, no_ray_yet):
    argv = [*R, "--seeds", "0", "--levels", "0", "--ray-address", "127.0.0.1:1", "--ray-timeout", "5"]
    err = fails(capsys, main, with_out(argv, tmp_path / "ray"))
    assert "no Ray cluster answers at 127.0.0.1:1 within 5 s" in err


def test_a_token_authenticated_cluster_without_the_clients_token_is_one_line(tmp_path, capsys, monkeypatch, no_ray_yet):
    ray = no_ray_yet

    def refused(**options):  # what ray.init raises after its retries when the token is missing
        raise ray.exceptions.AuthenticationError("Authentication failed: missing token")

    monkeypatch.setattr(ray, "init", lambda address=None, **options: refused(**options))
    monkeypatch.setattr("shared_mask.ray_join._probe", lambda address, timeout: None)
    argv = [*R, "--seeds", "0", "--levels", "0", "--ray-address", "10.0.0.1:6379"]
    err = fails(capsys, main, with_out(argv, tmp_path / "ray"))
    assert "refused this client: it uses token authentication" in err and "RAY_AUTH_TOKEN" in err
