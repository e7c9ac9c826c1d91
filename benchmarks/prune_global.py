"""Global magnitude pruning on a Transformer-Big-sized model: time, peak memory, agreement.

Builds the real fairseq ``transformer_vaswani_wmt_en_de_big`` (32k joined dictionary, shared
embeddings; about 210M parameters) and runs two successive 20% global pruning steps over all
parameters with each method, measured in the same process:

- ``shared_mask.prune_global`` (histogram select, no sort, no concatenation);
- the plain reference: concatenate all surviving magnitudes, ``torch.kthvalue``, exact tie fill;
- ``torch.nn.utils.prune.global_unstructured`` with ``L1Unstructured`` (run last: it rewrites the model);
- the floor: one read pass over the weights.

Peak extra memory is the highest resident-set size seen while a method runs minus the size
before it, sampled every millisecond. Usage: ``python benchmarks/prune_global.py [--skip-torch-prune]``.
"""
from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path

import torch
from torch.nn.utils import prune as torch_prune

import shared_mask as sm

GIB = 1024 ** 3


def build_transformer_big(vocab: int) -> torch.nn.Module:
    from fairseq import options, tasks
    from fairseq.data import Dictionary

    dictionary = Dictionary()
    for i in range(vocab - len(dictionary)):
        dictionary.add_symbol(f"tok{i}")
    parser = options.get_training_parser()
    args = options.parse_args_and_arch(parser, [
        tempfile.gettempdir(), "--task", "translation", "--arch", "transformer_vaswani_wmt_en_de_big",
        "--share-all-embeddings", "--source-lang", "en", "--target-lang", "de",
    ])
    task = tasks.translation.TranslationTask(args, dictionary, dictionary)
    return task.build_model(args)


class PeakRSS:
    """Highest resident-set size (bytes) above the starting one while the block runs."""

    def __enter__(self):
        self.start = self.peak = _rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()
        return self

    def _poll(self):
        while not self._stop.wait(0.001):
            self.peak = max(self.peak, _rss())

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss())
        self.extra = self.peak - self.start


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def measure(fn):
    with PeakRSS() as memory:
        start = time.perf_counter()
        result = fn()
        seconds = time.perf_counter() - start
    return result, seconds, memory.extra


def kthvalue_reference(params: dict, mask: sm.Mask, rate: float) -> sm.Mask:
    """Concatenate surviving magnitudes, take the k-th smallest, prune below it and ties in order."""
    names = mask.names()
    magnitudes = torch.cat([params[n].detach().abs().reshape(-1)[mask[n].reshape(-1)] for n in names])
    k = int(rate * magnitudes.numel() + 0.5)
    threshold = torch.kthvalue(magnitudes, k).values
    ties_to_prune = k - int((magnitudes < threshold).sum())
    del magnitudes
    new = {}
    for n in names:
        w, keep = params[n].detach().abs().reshape(-1), mask[n].reshape(-1)
        kept = keep & (w > threshold)
        ties = (keep & (w == threshold)).nonzero().squeeze(1)
        kept[ties[ties_to_prune:]] = True
        ties_to_prune -= min(ties_to_prune, ties.numel())
        new[n] = kept.reshape(mask[n].shape)
    return sm.Mask(new)


def torch_prune_step(model: torch.nn.Module, names: list[str], rate: float) -> None:
    modules = dict(model.named_modules())
    targets = [(modules[n.rpartition(".")[0]], n.rpartition(".")[2]) for n in names]
    torch_prune.global_unstructured(targets, pruning_method=torch_prune.L1Unstructured, amount=rate)


def read_pass(params: dict, names: list[str]) -> float:
    return sum(float(params[n].sum()) for n in names)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vocab", type=int, default=32768, help="joined dictionary size")
    parser.add_argument("--rate", type=float, default=0.2)
    parser.add_argument("--skip-torch-prune", action="store_true", help="skip the slow torch.nn.utils.prune baseline")
    args = parser.parse_args()

    torch.manual_seed(0)
    model = build_transformer_big(args.vocab)
    model.requires_grad_(False)
    params = dict(model.named_parameters())
    names = sm.prunable(model, "all")
    numel = sum(params[n].numel() for n in names)
    param_bytes = sum(params[n].numel() * params[n].element_size() for n in names)
    print(f"transformer_vaswani_wmt_en_de_big, vocab {args.vocab}, shared embeddings: "
          f"{numel / 1e6:.1f}M prunable parameters in {len(names)} tensors ({param_bytes / GIB:.2f} GiB fp32)")
    print(f"threads: {torch.get_num_threads()}\n")

    rows = []
    _, seconds, extra = measure(lambda: read_pass(params, names))
    rows.append(("one read pass (floor)", seconds, None, extra))

    dense = sm.Mask.dense(model, names)
    ours, reference = [dense], [dense]
    for step in (1, 2):
        mask, seconds, extra = measure(lambda: sm.prune_global(params, ours[-1], args.rate))
        ours.append(mask)
        rows.append((f"shared_mask.prune_global, step {step}", seconds, None, extra))
    for step in (1, 2):
        mask, seconds, extra = measure(lambda: kthvalue_reference(params, reference[-1], args.rate))
        reference.append(mask)
        rows.append((f"kthvalue reference, step {step}", seconds, None, extra))

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "mask.safetensors"
        ours[-1].save(path)
        mask_file_bytes = path.stat().st_size

    if not args.skip_torch_prune:
        for step in (1, 2):
            _, seconds, extra = measure(lambda: torch_prune_step(model, names, args.rate))
            rows.append((f"torch.nn.utils.prune.global_unstructured, step {step}", seconds, None, extra))

    print(f"{'method':<52} {'seconds':>8} {'peak extra':>11} {'x param bytes':>14}")
    for name, seconds, _, extra in rows:
        print(f"{name:<52} {seconds:8.2f} {extra / GIB:9.2f}GB {extra / param_bytes:13.2f}x")

    ours_time = sum(r[1] for r in rows if r[0].startswith("shared_mask")) / 2
    print()
    print(f"same pruned set as the kthvalue reference: step 1 {ours[1] == reference[1]}, step 2 {ours[2] == reference[2]}")
    print(f"densities after two steps: ours {ours[2].density():.6f}, reference {reference[2].density():.6f}")
    print(f"mask file: {mask_file_bytes / 1e6:.1f} MB = 1/{param_bytes / mask_file_bytes:.1f} of the fp32 parameter bytes")
    floor = rows[0][1]
    print(f"shared_mask.prune_global: {ours_time:.2f} s per step = {ours_time / floor:.1f}x the read pass")
    if not args.skip_torch_prune:
        torch_time = sum(r[1] for r in rows if r[0].startswith("torch.nn")) / 2
        print(f"speed-up over torch.nn.utils.prune: {torch_time / ours_time:.1f}x")


if __name__ == "__main__":
    main()
