"""Joining a running Ray cluster (``--ray-address``) within a bounded time, with one line when it fails.

Ray itself retries an address that does not answer for minutes, and a client without the token of a
token-authenticated cluster for 20 s before a long error; here an address of the form host:port must
accept a connection within ``timeout`` seconds, and every failure to join is one ValueError that says
what to change.
"""

from __future__ import annotations

import os
import socket
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from .errors import error_line

TOKEN_ADVICE = (
    "it uses token authentication: give this client the cluster's token as on its head node "
    "(RAY_AUTH_MODE=token, and RAY_AUTH_TOKEN or the file ~/.ray/auth_token)"
)


def join_cluster(ray, address: str, timeout: float, **options) -> None:
    """``ray.init(address=address, **options)``, failing within ``timeout`` s when nothing answers. Ray's
    own retry lines (one a second) are held back and shown only if the join succeeds."""
    _probe(address, timeout)
    with tempfile.TemporaryFile() as held:
        try:
            with _stderr_into(held):
                ray.init(address=address, **options)
        except Exception as error:  # Ray raises many kinds (ConnectionError, RuntimeError, its own RayErrors)
            held.seek(0)
            said = held.read().decode(errors="replace") + str(error)
            if isinstance(error, ray.exceptions.AuthenticationError) or "InvalidAuthToken" in said:
                raise ValueError(f"the Ray cluster at {address} refused this client: {TOKEN_ADVICE}") from error
            raise ValueError(f"cannot join the Ray cluster at {address}: {error_line(error)}") from error
        held.seek(0)
        sys.stderr.write(held.read().decode(errors="replace"))


@contextmanager
def _stderr_into(file) -> Iterator[None]:
    """File descriptor 2 (where Ray's C++ core logs) into ``file`` for a while."""
    sys.stderr.flush()
    saved = os.dup(2)
    os.dup2(file.fileno(), 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _probe(address: str, timeout: float) -> None:
    """A host:port address must accept a TCP connection within ``timeout`` s (``auto`` and ``ray://``
    addresses are Ray's to resolve)."""
    host, colon, port = address.rpartition(":")
    if not colon or not port.isdigit() or "://" in address:
        return
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as error:
        raise ValueError(
            f"no Ray cluster answers at {address} within {timeout:g} s ({error_line(error) or 'timed out'}): "
            "start it with `ray start --head`, or check --ray-address"
        ) from error
