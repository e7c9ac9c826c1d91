"""Session-wide settings of the suite."""

import os

import pytest

# `make test` runs two test processes on two cores, each starting fairseq programs: with torch's default of
# one OpenMP thread per core, four threads share two cores and spin waiting for each other. The tests' tiny
# models gain nothing from more threads; one per process halves the suite's CPU time. Set before torch is
# imported here, and inherited by every program a test starts (tests that need threads set them).
os.environ.setdefault("OMP_NUM_THREADS", "1")


def pytest_collection_modifyitems(items):
    """The longest files first (``pytest.mark.duration``), the rest after them in their usual order:
    pytest-xdist hands whole files to the two workers in this order (``--dist loadfile
    --no-loadscope-reorder``), so the short files fill the end and the workers finish together."""
    items.sort(key=lambda item: -_duration(item))


def _duration(item) -> float:
    marker = item.get_closest_marker("duration")
    return marker.args[0] if marker else 0.0


@pytest.fixture(scope="module")
def ray_cluster():
    """One local Ray cluster per test file that uses it (starting one takes seconds; an idle one takes
    about 5% of a core, so it is not kept for the rest of the session). Its resources are logical, so it
    declares a GPU that CPU-only tests can schedule on."""
    from shared_mask.workers import local_ray_options, loopback_only

    loopback_only()
    import ray

    ray.init(num_cpus=2, num_gpus=1, **local_ray_options())
    yield ray
    ray.shutdown()
