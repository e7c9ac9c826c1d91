"""Exact global magnitude pruning against its baselines, same process, same run, CPU or GPU.

Two models, every parameter prunable:

- 58M: a 32000x1024 embedding and three 1024/4096 feed-forward blocks with LayerNorms;
- 210M: Transformer-Big shapes (``nn.Transformer``: d_model 1024, 16 heads, FFN 4096, 6+6 layers)
  with one 32768x1024 embedding shared by source, target and output.

Each method runs two successive 20% global steps from the dense mask:

- ``shared_mask.prune_global`` (exact: ties in parameter order, then flat index);
- ``torch.kthvalue`` on the concatenated surviving magnitudes, pruning everything at or below the
  threshold (inexact on ties; the usual quick recipe);
- ``torch.nn.utils.prune.global_unstructured`` with ``L1Unstructured`` (run last: it rewrites the model);
- one read pass, ``torch.linalg.vector_norm(p, 1)`` of every parameter: the memory-bandwidth floor.

Seconds per step are medians over ``--repeats`` runs (torch prune: one run, it is slow). Peak extra
memory is above what was allocated before the method: ``torch.cuda.max_memory_allocated`` on a GPU,
the resident-set size sampled every millisecond on the CPU. Usage:
``python benchmarks/prune_global.py --device cpu|cuda [--sizes 58M 210M] [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
from pathlib import Path

import torch
from torch import nn
from torch.nn.utils import prune as torch_prune

import shared_mask as sm

GB = 1e9


def ffn_model() -> nn.Module:
    """58M parameters: an embedding and three feed-forward blocks, each with a LayerNorm."""
    blocks = [
        nn.Sequential(nn.Linear(1024, 4096), nn.ReLU(), nn.Linear(4096, 1024), nn.LayerNorm(1024)) for _ in range(3)
    ]
    return nn.Sequential(nn.Embedding(32000, 1024), *blocks)


class TransformerBig(nn.Module):
    """210M parameters in Transformer-Big shapes with shared embeddings."""

    def __init__(self, vocab: int = 32768):
        super().__init__()
        self.embed = nn.Embedding(vocab, 1024)
        self.transformer = nn.Transformer(1024, 16, 6, 6, 4096)


MODELS = {"58M": ffn_model, "210M": TransformerBig}


class PeakMemory:
    """Peak bytes above the starting allocation while the block runs (GPU allocator or CPU RSS)."""

    def __init__(self, device: torch.device):
        self.cuda = device.type == "cuda"

    def __enter__(self):
        if self.cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            self.start = torch.cuda.memory_allocated()
        else:
            self.start = self.peak = _rss()
            self._stop = threading.Event()
            self._thread = threading.Thread(target=self._poll, daemon=True)
            self._thread.start()
        return self

    def _poll(self):
        while not self._stop.wait(0.001):
            self.peak = max(self.peak, _rss())

    def __exit__(self, *exc):
        if self.cuda:
            torch.cuda.synchronize()
            self.peak = torch.cuda.max_memory_allocated()
        else:
            self._stop.set()
            self._thread.join()
            self.peak = max(self.peak, _rss())
        self.extra = self.peak - self.start


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def measure(fn, device: torch.device):
    """(result, seconds, peak extra bytes) of one call."""
    with PeakMemory(device) as memory:
        start = time.perf_counter()
        result = fn()
        if device.type == "cuda":
            torch.cuda.synchronize()
        seconds = time.perf_counter() - start
    return result, seconds, memory.extra


def two_steps(prune, mask: sm.Mask, device: torch.device, rate: float):
    """Masks, seconds and peak extra bytes of two successive steps."""
    masks, seconds, extra = [mask], [], []
    for _ in range(2):
        new, s, e = measure(lambda: prune(masks[-1], rate), device)
        masks.append(new)
        seconds.append(s)
        extra.append(e)
    return masks, seconds, extra


def kthvalue_step(params: dict, mask: sm.Mask, rate: float) -> sm.Mask:
    """Prune every survivor at or below the k-th smallest surviving magnitude (ties over-prune)."""
    names = mask.names()
    magnitudes = torch.cat(
        [params[n].detach().abs().reshape(-1)[mask[n].reshape(-1).to(params[n].device)] for n in names]
    )
    threshold = torch.kthvalue(magnitudes, int(rate * magnitudes.numel() + 0.5)).values
    del magnitudes
    return sm.Mask({n: mask[n] & (params[n].detach().abs() > threshold).cpu() for n in names})


def torch_prune_step(model: nn.Module, names: list[str], rate: float) -> None:
    modules = dict(model.named_modules())
    targets = [(modules[n.rpartition(".")[0]], n.rpartition(".")[2]) for n in names]
    torch_prune.global_unstructured(targets, pruning_method=torch_prune.L1Unstructured, amount=rate)


def read_pass(params: dict, names: list[str]) -> torch.Tensor:
    return sum(torch.linalg.vector_norm(params[n], 1) for n in names)


def run(size: str, device: torch.device, rate: float, repeats: int, skip_torch: bool) -> dict:
    """Print the table of one model size; return its figures (seconds are medians)."""
    torch.manual_seed(0)
    model = MODELS[size]().to(device).requires_grad_(False)
    params = dict(model.named_parameters())
    names = sm.prunable(model, "all")
    param_bytes = sum(params[n].numel() * params[n].element_size() for n in names)
    numel = sum(params[n].numel() for n in names)
    print(
        f"\n== {size}: {numel / 1e6:.1f}M parameters in {len(names)} tensors, {param_bytes / GB:.2f} GB, {device}, "
        f"{torch.get_num_threads()} threads"
    )
    dense = sm.Mask.dense(model, names)

    rows = {}
    threads = torch.get_num_threads()
    for n in sorted({threads, 1}, reverse=True):  # ours runs single-threaded ops on worker threads
        torch.set_num_threads(n)
        reads = [measure(lambda: read_pass(params, names), device) for _ in range(max(repeats, 3))]
        rows[f"one read pass (vector_norm 1), {n} thread{'s' * (n > 1)}"] = (
            [r[1] for r in reads],
            [r[2] for r in reads],
        )
    torch.set_num_threads(threads)
    runs = [two_steps(lambda m, r: sm.prune_global(params, m, r), dense, device, rate) for _ in range(repeats)]
    ours = runs[0][0]
    rows["shared_mask.prune_global (exact)"] = ([s for r in runs for s in r[1]], [e for r in runs for e in r[2]])
    runs = [two_steps(lambda m, r: kthvalue_step(params, m, r), dense, device, rate) for _ in range(repeats)]
    kth = runs[0][0]
    rows["torch.kthvalue threshold (inexact on ties)"] = (
        [s for r in runs for s in r[1]],
        [e for r in runs for e in r[2]],
    )
    if not skip_torch:
        _, seconds, extra = two_steps(lambda m, r: torch_prune_step(model, names, r), dense, device, rate)
        rows["torch.nn.utils.prune.global_unstructured"] = (seconds, extra)

    print(f"{'method':<44} {'s/step (median)':>16} {'range':>15} {'peak extra':>11} {'x param bytes':>14}")
    median = {}
    for name, (seconds, extra) in rows.items():
        median[name] = statistics.median(seconds)
        print(
            f"{name:<44} {median[name]:16.4f} {min(seconds):7.3f}-{max(seconds):<7.3f} "
            f"{max(extra) / GB:9.3f}GB {max(extra) / param_bytes:13.2f}x"
        )
    t_ours = median["shared_mask.prune_global (exact)"]
    t_read = min(t for name, t in median.items() if name.startswith("one read pass"))
    print(
        f"ours = {t_ours / t_read:.1f}x the faster read pass; kthvalue / ours = "
        f"{median['torch.kthvalue threshold (inexact on ties)'] / t_ours:.1f}x",
        end="",
    )
    if not skip_torch:
        print(f"; torch prune / ours = {median['torch.nn.utils.prune.global_unstructured'] / t_ours:.1f}x", end="")
    print(
        f"\nkept after each step: ours {ours[1].alive()}, {ours[2].alive()} of {numel} (exactly 80%, 64%); kthvalue "
        f"{kth[1].alive()}, {kth[2].alive()}; after step 1 they differ in {round(ours[1].hamming(kth[1]) * numel)} "
        f"entries (ties at the threshold, which kthvalue prunes all of)"
    )
    figures = {
        "size": size,
        "device": str(device),
        "parameters": numel,
        "param_bytes": param_bytes,
        "seconds_per_step": t_ours,
        "read_pass_seconds": t_read,
        "ratio_to_read_pass": t_ours / t_read,
        "peak_extra_bytes": max(rows["shared_mask.prune_global (exact)"][1]),
        "masks_on_weights_device": all(t.device == params[n].device for n, t in ours[2].items()),
    }
    if not skip_torch:
        figures["torch_prune_seconds_per_step"] = median["torch.nn.utils.prune.global_unstructured"]
        figures["speedup_over_torch_prune"] = figures["torch_prune_seconds_per_step"] / t_ours
    if device.type != "cpu":  # the same masks as on the CPU, from the same weights
        torch.manual_seed(0)
        cpu_params = dict(MODELS[size]().requires_grad_(False).named_parameters())
        cpu_masks = two_steps(
            lambda m, r: sm.prune_global(cpu_params, m, r), sm.Mask.dense(cpu_params, names), torch.device("cpu"), rate
        )[0]
        figures["same_masks_as_cpu"] = cpu_masks[1] == ours[1] and cpu_masks[2] == ours[2]
        print(f"same masks as on the CPU: {figures['same_masks_as_cpu']}")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--sizes", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--rate", type=float, default=0.2)
    parser.add_argument("--repeats", type=int, default=3, help="runs of two steps per method (torch prune: one)")
    parser.add_argument("--skip-torch-prune", action="store_true", help="skip the slow torch.nn.utils.prune baseline")
    parser.add_argument("--json", type=Path, help="also write the figures of every size to this JSON file")
    args = parser.parse_args()
    figures = [
        run(size, torch.device(args.device), args.rate, args.repeats, args.skip_torch_prune) for size in args.sizes
    ]
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
