"""Lotteries whose units train at once as Ray tasks: same folder, masks and results as one worker."""

import ipaddress
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

import shared_mask as sm
from shared_mask.workers import UnitFailed, Workers
from tests.shared_mask.test_lottery import MLPTrainer, config, mask_at

pytestmark = pytest.mark.duration(50)

SEEDS, LEVELS = (0, 1), (0, 1, 2)


def assert_same_run(run, reference):
    for seed in SEEDS:
        for level in LEVELS:
            assert mask_at(run, seed, level) == mask_at(reference, seed, level), (seed, level)
    assert (run / "results.csv").read_text() == (reference / "results.csv").read_text()


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    run = tmp_path_factory.mktemp("in_process") / "run"
    sm.run_lottery(MLPTrainer(), config(), run, progress=False)
    return run


def test_two_workers_give_the_in_process_masks_and_results(ray_cluster, reference, tmp_path):
    run = tmp_path / "run"
    sm.run_lottery(MLPTrainer(), config(), run, progress=False, workers=Workers(workers=2))
    assert_same_run(run, reference)
    assert ray_cluster.is_initialized()  # a cluster it did not start is left running


class DiesOnce(MLPTrainer):
    """Kills its worker process the first time it trains one unit (a crashed worker or node)."""

    def __init__(self, marker: Path):
        super().__init__()
        self.marker = marker

    def train(self, unit):
        if (unit.seed, unit.level, unit.ticket) == (1, 1, "winning") and not self.marker.exists():
            self.marker.write_text("died")
            os._exit(1)
        return super().train(unit)


def test_a_unit_whose_worker_dies_is_retried(ray_cluster, reference, tmp_path):
    run = tmp_path / "run"
    sm.run_lottery(DiesOnce(tmp_path / "died"), config(), run, progress=False, workers=Workers(workers=2))
    assert (tmp_path / "died").read_text() == "died"
    assert_same_run(run, reference)


class Fails(MLPTrainer):
    def train(self, unit):
        if unit.level == 1 and unit.ticket == "random_mask":
            raise ValueError("diverged: loss is nan")
        return super().train(unit)


def test_a_failing_unit_is_one_line_naming_it_and_the_others_are_kept(ray_cluster, tmp_path):
    run = tmp_path / "run"
    with pytest.raises(UnitFailed) as failure:
        sm.run_lottery(Fails(), config(seeds=[0], levels=1), run, progress=False, workers=Workers(workers=2))
    message = str(failure.value)
    assert "\n" not in message
    assert message.startswith("unit seed 0 level 1 random_mask failed: ValueError: diverged: loss is nan")
    assert str(run / "seed_0" / "level_01" / "random_mask") in message
    for ticket in ("winning", "random_reinit"):
        assert (run / "seed_0" / "level_01" / ticket / "metrics.json").is_file()
    assert "random_reinit" in (run / "results.csv").read_text()


class RecordsResources(MLPTrainer):
    def train(self, unit):
        import ray

        metrics = super().train(unit)
        return {
            **metrics,
            "gpus": len(ray.get_gpu_ids()),
            "gpu_share": ray.get_runtime_context().get_assigned_resources().get("GPU", 0.0),
        }


def test_units_reserve_the_gpus_they_ask_for(ray_cluster, tmp_path):
    run = tmp_path / "run"
    sm.run_lottery(
        RecordsResources(),
        config(seeds=[0], levels=1),
        run,
        progress=False,
        workers=Workers(workers=2, gpus_per_unit=0.5),
    )
    shares = [json.loads(p.read_text())["metrics"]["gpu_share"] for p in run.glob("seed_0/level_*/*/metrics.json")]
    assert shares == [0.5] * 4
    with pytest.raises(ValueError, match="--gpus-per-unit 2: the Ray cluster has 1 GPUs"):
        sm.run_lottery(
            MLPTrainer(),
            config(seeds=[0], levels=1),
            tmp_path / "other",
            progress=False,
            workers=Workers(workers=1, gpus_per_unit=2),
        )


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"workers": -1}, "--workers must be"),
        ({"cpus_per_unit": 0}, "--cpus-per-unit must be positive"),
        ({"gpus_per_unit": -0.5}, "--gpus-per-unit must be"),
    ],
)
def test_invalid_worker_settings_are_clear_errors(settings, message):
    with pytest.raises(ValueError, match=message):
        Workers(**settings)


DRIVER = """
import sys
import shared_mask as sm
from shared_mask.workers import Workers
from tests.shared_mask.test_lottery import MLPTrainer, config
sm.run_lottery(MLPTrainer(), config(), sys.argv[1], progress=False, workers=Workers(workers=2))
"""


def process_tree(root: int) -> set[int]:
    """Process ``root`` and its descendants (from /proc)."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            pid, _, rest = stat.read_text().partition(" (")
            parents[int(pid)] = int(rest.rsplit(") ", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
    tree, grew = {root}, True
    while grew:
        grown = tree | {pid for pid, parent in parents.items() if parent in tree}
        grew, tree = grown != tree, grown
    return tree


def may_write_units(pid: int) -> bool:
    """Whether process ``pid`` is alive and may still write a unit: any process but Ray's per-node agents,
    which run no task and outlive a killed driver by a minute or more."""
    try:
        title = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:  # gone
        return False
    return not title.startswith((b"ray::DashboardAgent", b"ray::RuntimeEnvAgent"))


def listening_addresses(tree: set[int]) -> set[str]:
    """The local addresses of the listening TCP sockets of the processes ``tree`` (from /proc)."""
    inodes = set()
    for pid in tree:
        for fd in Path(f"/proc/{pid}/fd").glob("*"):
            try:
                link = os.readlink(fd)
            except OSError:
                continue
            if link.startswith("socket:["):
                inodes.add(link[8:-1])
    addresses = set()
    for table, family in (("tcp", 4), ("tcp6", 6)):
        for line in Path(f"/proc/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                addresses.add(_ip(fields[1].split(":")[0], family))
    return addresses


def _ip(hex_address: str, family: int) -> str:
    """/proc/net/tcp's little-endian hex address as text."""
    raw = bytes.fromhex(hex_address)
    raw = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    ip = ipaddress.ip_address(socket.inet_ntop(socket.AF_INET if family == 4 else socket.AF_INET6, raw))
    return str(getattr(ip, "ipv4_mapped", None) or ip)  # ::ffff:127.0.0.1 is 127.0.0.1


def test_the_started_cluster_listens_on_loopback_and_a_killed_driver_resumes_to_the_same_masks(reference, tmp_path):
    run = tmp_path / "run"
    root = Path(__file__).resolve().parents[2]
    driver = subprocess.Popen(
        [sys.executable, "-c", DRIVER, str(run)], cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.time() + 120
    while len(list(run.glob("seed_*/level_*/*/metrics.json"))) < 4 and driver.poll() is None:
        assert time.time() < deadline, "the driver finished no unit in 2 minutes"
        time.sleep(0.05)
    tree = process_tree(driver.pid)
    addresses = listening_addresses(tree)
    driver.kill()
    driver.wait()
    deadline = time.time() + 60  # its Ray workers may still finish a unit: count once they are gone
    while any(map(may_write_units, tree)) and time.time() < deadline:
        time.sleep(0.1)
    assert addresses and addresses <= {"127.0.0.1", "::1"}, addresses  # its cluster: loopback only
    done = len(list(run.glob("seed_*/level_*/*/metrics.json")))
    assert done < 2 * 7, "the driver finished before it was killed: nothing to resume"
    resumed = MLPTrainer()
    sm.run_lottery(resumed, config(), run, progress=False)
    assert len(resumed.calls) == 2 * 7 - done
    assert_same_run(run, reference)
