"""MaskEnforcer with fairseq's real optimizer wrappers, on the CPU.

fairseq's FP16Optimizer keeps an fp32 master copy (flattened by default) that the torch optimizer
updates and copies back into the model. Its flattening assumes a CUDA device; here the device is
faked so the same code runs on the CPU with fp32 "model" weights (the logic does not depend on the
dtype). The --fp16 path on a GPU is not exercised by this suite.
"""

import pytest
import torch
from fairseq import optim, options
from fairseq.dataclass.utils import convert_namespace_to_omegaconf
from fairseq.optim.fp16_optimizer import FP16Optimizer, MemoryEfficientFP16Optimizer

import shared_mask as sm
from fairseq_lth.plugin.masking import MaskEnforcer

from .conftest import MODEL_ARGS


def fairseq_cfg(data, *extra):
    parser = options.get_training_parser()
    args = options.parse_args_and_arch(parser, [str(data), "--task", "translation", *MODEL_ARGS, *extra])
    return convert_namespace_to_omegaconf(args)


def build_optimizer(kind, cfg, params):
    if kind == "fp32":
        return optim.build_optimizer(cfg.optimizer, params)
    if kind == "memory_efficient_fp16":
        return MemoryEfficientFP16Optimizer.build_optimizer(cfg, params)
    return FP16Optimizer.build_optimizer(cfg, params)


@pytest.mark.parametrize(
    "kind,extra",
    [
        ("fp32", []),
        ("fp16_flat", ["--fp16"]),
        ("fp16_no_flatten", ["--fp16", "--fp16-no-flatten-grads"]),
        ("memory_efficient_fp16", ["--memory-efficient-fp16"]),
    ],
)
def test_pruned_entries_stay_zero_in_weights_moments_and_master_copy(data, builder, monkeypatch, kind, extra):
    monkeypatch.setattr(torch.cuda, "current_device", lambda: None)  # FP16Optimizer's flat copy, on the CPU
    cfg = fairseq_cfg(data, *extra)
    model = builder.build_model(0)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = build_optimizer(kind, cfg, params)
    mask = sm.prune_global(model, sm.Mask.dense(model, sm.prunable(model, "all")), 0.7)
    master = getattr(optimizer, "fp32_params", None)
    enforcer = MaskEnforcer(model, mask)
    enforcer.bind(optimizer)
    names = {id(p): n for n, p in model.named_parameters()}
    generator = torch.Generator().manual_seed(0)
    directions = [torch.randn(p.shape, generator=generator) for p in params]
    for _ in range(3):
        optimizer.zero_grad()
        optimizer.backward(sum((p.float() * d).sum() for p, d in zip(params, directions)))
        enforcer.mask_grads_()
        optimizer.step()
        enforcer.after_step_()
    for p in params:
        if names[id(p)] in mask:
            assert not p[~mask[names[id(p)]]].any(), names[id(p)]
    state = optimizer.optimizer.state
    assert state
    if master is None:
        for p in params:
            for value in state[p].values():
                if torch.is_tensor(value) and value.shape == p.shape and names[id(p)] in mask:
                    assert not value[~mask[names[id(p)]]].any()
    else:
        flat = torch.cat([m.data.view(-1) for m in (master.values() if isinstance(master, dict) else master)])
        dead = torch.cat(
            [
                (~mask[names[id(p)]]).view(-1) if names[id(p)] in mask else torch.zeros(p.numel(), dtype=torch.bool)
                for p in params
            ]
        )
        assert flat.numel() == dead.numel() and dead.any()
        assert not flat[dead].any()
        moments = [
            torch.cat([state[t][k].view(-1) for t in (master.values() if isinstance(master, dict) else master)])
            for k in ("exp_avg", "exp_avg_sq")
        ]
        assert all(not m[dead].any() for m in moments)


def test_bind_clears_a_master_copy_built_from_unmasked_weights(data, builder, monkeypatch):
    """FP16Optimizer copies the weights into its master when it is built (e.g. right after loading the
    dense rewind checkpoint): binding must zero the master too, or the next step copies them back."""
    monkeypatch.setattr(torch.cuda, "current_device", lambda: None)
    model = builder.build_model(0)
    params = list(model.parameters())
    optimizer = FP16Optimizer.build_optimizer(fairseq_cfg(data, "--fp16"), params)
    mask = sm.prune_global(model, sm.Mask.dense(model, sm.prunable(model, "all")), 0.5)
    enforcer = MaskEnforcer(model, mask)
    enforcer.bind(optimizer)
    optimizer.zero_grad()
    optimizer.backward(sum(p.sum() for p in params))
    enforcer.mask_grads_()
    optimizer.step()  # copies the master into the model, before after_step_()
    for name, keep in mask.items():
        assert not dict(model.named_parameters())[name][~keep].any(), name


def test_refresh_master_after_reinitialization(data, builder, monkeypatch):
    monkeypatch.setattr(torch.cuda, "current_device", lambda: None)
    model = builder.build_model(0)
    optimizer = FP16Optimizer.build_optimizer(fairseq_cfg(data, "--fp16"), list(model.parameters()))
    fresh = builder.build_model(5).state_dict()
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            tensor.copy_(fresh[name])
    mask = sm.Mask.dense(model, sm.prunable(model, "all"))
    MaskEnforcer(model, mask).bind(optimizer, refresh_master=True)
    flat = next(iter(optimizer.fp32_params.values())).data
    torch.testing.assert_close(flat, torch.cat([p.data.view(-1) for p in model.parameters()]))
