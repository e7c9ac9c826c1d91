"""Reading one selection's scores: each masked tensor in chunks on its own device, as exact floats in
reused buffers; on the CPU a tensor's chunks spread over worker threads that each run single-threaded ops."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import torch

CHUNK = 1 << 19  # on the CPU: a chunk's working set stays in cache; tensors split evenly over threads
CUDA_CHUNK = 1 << 22  # on a GPU: few launches per tensor; buffers stay small next to fp16 weights


@contextmanager
def cpu_workers():
    """A pool of threads that each run torch ops on one CPU thread (None if torch has one thread).

    A pass is many short ops on cache-sized chunks. Multi-threaded ops wait for every thread at
    their end, which costs far more than it gains once other processes share the cores (0.08-3 s
    per 58M-parameter step on two threads, 0.13 s on one); independent chunks on independent
    threads never wait for each other."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with ThreadPoolExecutor(threads, initializer=torch.set_num_threads, initargs=(1,)) as pool:
            yield pool if threads > 1 else None
    finally:
        torch.set_num_threads(threads)


def map_chunks(pool: ThreadPoolExecutor | None, fn: Callable, items: Sequence) -> list:
    return list(pool.map(fn, items)) if pool is not None and len(items) > 1 else [fn(item) for item in items]


class Source:
    """One masked tensor: its keep-mask and, once selection has run on it, its new keep-mask."""

    def __init__(self, name: str, keep: torch.Tensor, pool: ThreadPoolExecutor | None):
        self.name, self.keep = name, keep
        flat = keep.reshape(-1)
        counts = map_chunks(
            pool, lambda start: torch.count_nonzero(flat[start : start + CHUNK]), range(0, flat.numel(), CHUNK)
        )
        self.alive = int(sum(counts))
        self.dense = self.alive == keep.numel()
        self.out: torch.Tensor | None = None  # flat, on the scores' device
        self.flat_keep: torch.Tensor | None = None


class Scan:
    """Reads the scores of one selection chunk by chunk as floats (``|w|`` for magnitudes) in reused
    buffers, fp32 unless a tensor is fp64, so that order and ties are exact for every dtype."""

    def __init__(
        self,
        sources: list[Source],
        get: Callable[[str], torch.Tensor],
        magnitude: bool,
        pool: ThreadPoolExecutor | None,
    ):
        self.sources, self.get, self.magnitude, self.pool = sources, get, magnitude, pool
        self.alive = sum(s.alive for s in sources)
        self.numel = sum(s.keep.numel() for s in sources)
        self.device: torch.device | None = None
        self.dtype = torch.float32
        self._local = threading.local()  # chunk buffers, one set per thread

    def tensor(self, source: Source) -> torch.Tensor:
        """The flat scores of ``source``; the first call per source fixes device and buffers."""
        flat = self.get(source.name).reshape(-1)
        if self.device is None:
            self._start(flat)
        if flat.device != self.device:
            raise ValueError(
                f"scores for {source.name!r} are on {flat.device}, others on {self.device}: pool one device"
            )
        if flat.dtype == torch.float64 and self.dtype != torch.float64:
            raise ValueError(f"scores for {source.name!r} are float64 but those before it are not: pool one precision")
        if source.out is None:
            source.out = torch.empty(flat.numel(), dtype=torch.bool, device=self.device)
            source.flat_keep = source.keep.reshape(-1).to(self.device)
        return flat

    def _start(self, flat: torch.Tensor) -> None:
        self.device = flat.device
        self.dtype = torch.float64 if flat.dtype == torch.float64 else torch.float32
        self.chunk = CUDA_CHUNK if self.device.type == "cuda" else CHUNK

    def _buffers(self) -> threading.local:
        """This thread's chunk buffers: ``values`` and ``flags`` (padded to whole int64 words)."""
        local = self._local
        if not hasattr(local, "values"):
            size = min(self.chunk, max(s.keep.numel() for s in self.sources))
            local.values = torch.empty(size, dtype=self.dtype, device=self.device)
            local.flags = torch.empty(-(-size // 8) * 8, dtype=torch.bool, device=self.device)
        return local

    def values(self, x: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        """``x`` (or ``|x|``) as this scan's float dtype; into ``out`` unless ``x`` can be used as is."""
        if x.dtype == self.dtype and not self.magnitude:
            return x
        if out is None:
            out = torch.empty(x.shape, dtype=self.dtype, device=x.device)
        if x.dtype == self.dtype:
            return torch.abs(x, out=out)
        out.copy_(x)
        return out.abs_() if self.magnitude else out

    def _read(self, flat: torch.Tensor, start: int) -> torch.Tensor:
        """The values of a chunk, in this thread's buffer (overwritten by its next chunk)."""
        chunk = flat[start : start + self.chunk]
        return self.values(chunk, self._buffers().values[: chunk.numel()])

    def __iter__(self):
        """(source, start, values) per chunk in mask order, on this thread."""
        for source in self.sources:
            flat = self.tensor(source)
            for start in range(0, flat.numel(), self.chunk):
                yield source, start, self._read(flat, start)

    def map(self, fn: Callable) -> list:
        """``fn(source, start, values)`` for every chunk, in mask order; on the CPU the chunks of a
        tensor are spread over the worker threads, which share nothing but ``source.out``."""
        results = []
        for source in self.sources:
            flat = self.tensor(source)
            pool = self.pool if self.device.type == "cpu" else None
            results += map_chunks(
                pool, lambda start: fn(source, start, self._read(flat, start)), range(0, flat.numel(), self.chunk)
            )
        return results

    def keep(self, source: Source, start: int, n: int) -> torch.Tensor:
        return source.flat_keep[start : start + n]

    def split(self, source: Source, start: int, values: torch.Tensor, lo: float, hi: float):
        """Set the chunk of ``source.out`` to its survivors above ``hi``; return it and the flags
        (this thread's, until its next chunk) of its survivors in [lo, hi], for ``lo <= hi``."""
        n = values.numel()
        out = torch.gt(values, hi, out=source.out[start : start + n])
        inside = torch.ge(values, lo, out=self._buffers().flags[:n])
        if not source.dense:
            keep = self.keep(source, start, n)
            out.logical_and_(keep)
            inside.logical_and_(keep)
        return out, inside.logical_xor_(out)  # out is a subset of inside

    def flagged(self, n: int) -> torch.Tensor:
        """Indices of this thread's set ``flags[:n]``, which are few: scan them 8 at a time as
        int64 words, then look at the bytes of the nonzero words only."""
        padded = self._buffers().flags[: -(-n // 8) * 8]
        padded[n:] = False
        words = padded.view(torch.int64)
        nonzero = words.nonzero().squeeze(1)
        rows, lanes = words[nonzero].view(torch.uint8).view(-1, 8).nonzero().unbind(1)
        return nonzero[rows].mul_(8).add_(lanes)

    # -- order-preserving integer keys, for the exact narrowing ------------------------------------
    def keys(self, values: torch.Tensor) -> torch.Tensor:
        """Integer keys ordered like the floats (-0.0 and 0.0 share key 0): negative floats get
        minus the bits of their magnitude."""
        bits = values.view(torch.int64 if self.dtype == torch.float64 else torch.int32)
        magnitude_bits = bits & torch.iinfo(bits.dtype).max
        return torch.where(bits < 0, magnitude_bits.neg(), bits)

    def key_of(self, value: float) -> int:
        return int(self.keys(torch.tensor([value], dtype=self.dtype))[0])

    def value_of(self, key: int) -> float:
        bits = key if key >= 0 else -key - (1 << (63 if self.dtype == torch.float64 else 31))
        key_dtype = torch.int64 if self.dtype == torch.float64 else torch.int32
        return float(torch.tensor([bits], dtype=key_dtype).view(self.dtype)[0])
