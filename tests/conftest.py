import pytest


@pytest.fixture(scope="session")
def ray_cluster():
    """One local Ray cluster per test session (starting one takes seconds). Its resources are logical,
    so it declares a GPU that CPU-only tests can schedule on."""
    from shared_mask.workers import local_ray_options, loopback_only

    loopback_only()
    import ray

    ray.init(num_cpus=2, num_gpus=1, **local_ray_options())
    yield ray
    ray.shutdown()
