import pytest
import torch


@pytest.fixture(autouse=True, scope="session")
def single_thread():
    """The test models are tiny: one thread avoids contention that makes them many times slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
