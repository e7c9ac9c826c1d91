"""Sparse export of fairseq tickets: the LSTM LM's sparse model scores like fairseq, and any model's export
unpacks to a checkpoint the real fairseq-eval-lm / fairseq-generate load, equal to the unit's final.pt."""

import json
import math
import re
from pathlib import Path

import pytest
import torch
from fairseq import checkpoint_utils

import fairseq_lth
import shared_mask as sm
import shared_mask.export as sx
from fairseq_lth.export import SparseLSTMLM
from fairseq_lth.plugin.checkpoint_compat import load_checkpoint
from shared_mask.export import cli

from .conftest import MODEL_ARGS, fairseq
from .test_language_model import LM_ARGS, lm_data  # noqa: F401 (the module's tiny binarized text)

PLUGIN = str(Path(fairseq_lth.__file__).parent)
LM_TASK = "lottery_language_modeling"


def write_unit(run: Path, trainer: dict, checkpoint: Path, density: float) -> tuple[Path, torch.nn.Module]:
    """A finished level-1 winning unit from ``checkpoint``: its weights pruned to ``density`` (final.pt), the
    mask, metrics.json and config.json; returns the unit and fairseq's own model of final.pt (eval mode)."""
    unit = run / "seed_0" / "level_01" / "winning"
    unit.mkdir(parents=True)
    model = checkpoint_utils.load_model_ensemble([str(checkpoint)])[0][0]
    mask = sm.prune_to_density(model, sm.Mask.dense(model, sm.prunable(model, "all")), density)
    mask.apply_(model)
    mask.save(unit.parent / "mask.safetensors")
    state = load_checkpoint(checkpoint)
    state["model"], state["last_optimizer_state"] = model.state_dict(), None
    torch.save(state, unit / "final.pt")
    (run / "config.json").write_text(json.dumps({"lottery": {"levels": 1, "rate": 0.2}, "trainer": trainer}))
    (unit / "metrics.json").write_text(
        json.dumps(
            {"seed": 0, "level": 1, "ticket": "winning", "density": density, "metrics": {trainer["metric"]: 1.0}}
        )
    )
    return unit, checkpoint_utils.load_model_ensemble([str(unit / "final.pt")])[0][0].eval()


@pytest.fixture(scope="module")
def lm(lm_data, tmp_path_factory):  # noqa: F811 (lm_data is the imported fixture)
    """A 90%-pruned unit of the plugin's LSTM LM trained for one epoch by the real fairseq-train."""
    root, data = tmp_path_factory.mktemp("export_lm"), lm_data
    args = [*LM_ARGS, "--max-epoch", "1"]  # the last --max-epoch wins
    fairseq(
        "fairseq-train",
        data,
        "--user-dir",
        PLUGIN,
        "--task",
        LM_TASK,
        *args,
        "--save-dir",
        root / "ckpt",
        "--no-epoch-checkpoints",
    )
    trainer = {
        "experiment": "toy",
        "task": LM_TASK,
        "metric": "test_log_ppl",
        "data": str(data),
        "train_args": args,
        "evaluation": {"average_last": 1, "subset": "test", "max_tokens": 4000, "cpu": True},
    }
    unit, model = write_unit(root / "run", trainer, root / "ckpt" / "checkpoint_last.pt", density=0.1)
    return data, unit, model


@pytest.fixture(scope="module")
def transformer(data, dense, tmp_path_factory):
    """An 80%-pruned unit of the tests' tiny Transformer (shared embeddings) from the session's dense run."""
    trainer = {
        "experiment": "toy",
        "task": "lottery_translation",
        "metric": "bleu",
        "data": str(data),
        "train_args": MODEL_ARGS,
        "evaluation": {"average_last": 1, "beam": 2, "cpu": True},
    }
    unit, model = write_unit(tmp_path_factory.mktemp("export_mt") / "run", trainer, dense / "checkpoint_last.pt", 0.2)
    return unit, model


@pytest.mark.parametrize("policy", ["sparse", "auto"])
def test_sparse_lstm_lm_computes_the_fairseq_models_logits(lm, tmp_path, policy):
    _, unit, reference = lm
    sx.export(unit, tmp_path / "lm.safetensors")
    model = sx.load(tmp_path / "lm.safetensors", policy=policy)
    assert isinstance(model, SparseLSTMLM)
    tokens = torch.randint(4, len(reference.decoder.dictionary), (3, 16))
    with torch.no_grad():
        expected = reference(tokens)[0]
        torch.testing.assert_close(model(tokens), expected)
        nll = torch.nn.functional.cross_entropy(
            expected[:, :-1].reshape(-1, expected.shape[-1]), tokens[:, 1:].reshape(-1), reduction="sum"
        )
        assert model.nll(tokens[:, :-1], tokens[:, 1:]).item() == pytest.approx(nll.item(), rel=1e-6)


def test_the_unpacked_lm_checkpoint_scores_the_sparse_models_perplexity_in_fairseq_eval_lm(lm, tmp_path):
    data, unit, _ = lm
    cli.main([str(unit), "--out", str(tmp_path / "lm.safetensors")])
    cli.main([str(tmp_path / "lm.safetensors"), "--out", str(tmp_path / "lm.pt")])
    final, unpacked = load_checkpoint(unit / "final.pt")["model"], load_checkpoint(tmp_path / "lm.pt")["model"]
    assert final.keys() == unpacked.keys() and all(torch.equal(final[k], unpacked[k]) for k in final)
    log = fairseq(
        "fairseq-eval-lm",
        data,
        "--user-dir",
        PLUGIN,
        "--path",
        tmp_path / "lm.pt",
        "--task",
        LM_TASK,
        "--gen-subset",
        "test",
        "--tokens-per-sample",
        "16",
        "--max-tokens",
        "4000",
        "--cpu",
    )
    bits = float(re.search(r"Loss \(base 2\): ([\d.]+)", log.stdout + log.stderr).group(1))
    _, _, task = checkpoint_utils.load_model_ensemble_and_task([str(tmp_path / "lm.pt")])
    task.load_dataset("test")
    model, nll, count = sx.load(tmp_path / "lm.safetensors"), 0.0, 0
    with torch.no_grad():
        for item in task.dataset("test"):
            nll += model.nll(item["source"][None], item["target"][None]).item()
            count += item["target"].numel()
    assert nll / count == pytest.approx(bits * math.log(2), abs=1e-3)  # fairseq prints 4 decimals of bits


def test_transformer_export_unpacks_to_the_final_checkpoint_and_loads_in_fairseq(transformer, data, tmp_path):
    unit, reference = transformer
    exported = sx.export(unit, tmp_path / "mt.safetensors")
    assert exported.bytes * 2 < exported.dense_bytes  # the tiny model is mostly configuration
    ticket = sx.read(tmp_path / "mt.safetensors")
    assert ticket.config["tied"] == {
        "decoder.embed_tokens.weight": "encoder.embed_tokens.weight",
        "decoder.output_projection.weight": "encoder.embed_tokens.weight",
    }
    sx.unpack(tmp_path / "mt.safetensors", tmp_path / "mt.pt")
    final, unpacked = load_checkpoint(unit / "final.pt"), load_checkpoint(tmp_path / "mt.pt")
    assert final["model"].keys() == unpacked["model"].keys()
    assert all(torch.equal(final["model"][k], unpacked["model"][k]) for k in final["model"])
    assert unpacked["cfg"]["model"] == final["cfg"]["model"]
    model = sx.load(tmp_path / "mt.safetensors", data=str(data))
    assert model.decoder.output_projection.weight is model.encoder.embed_tokens.weight
    src = torch.randint(4, 40, (2, 6))
    prev = torch.randint(4, 40, (2, 5))
    with torch.no_grad():
        lengths = torch.tensor([6, 6])
        torch.testing.assert_close(model(src, lengths, prev)[0], reference(src, lengths, prev)[0])
    out = fairseq(
        "fairseq-generate",
        data,
        "--user-dir",
        PLUGIN,
        "--path",
        tmp_path / "mt.pt",
        "--gen-subset",
        "test",
        "--beam",
        "2",
        "--max-tokens",
        "4000",
        "--required-batch-size-multiple",
        "1",
        "--cpu",
    ).stdout
    assert sum(line.startswith("H-") for line in out.splitlines()) == 30


def test_a_mask_of_another_model_is_refused(lm, transformer, tmp_path):
    _, lm_unit, _ = lm
    unit, _ = transformer
    (unit.parent / "mask.safetensors").write_bytes((lm_unit.parent / "mask.safetensors").read_bytes())
    with pytest.raises(ValueError, match="a mask for another model"):
        sx.export(unit, tmp_path / "mt.safetensors")


def test_a_damaged_checkpoint_is_refused(lm, tmp_path):
    _, unit, _ = lm
    run = unit.parent.parent.parent
    broken = tmp_path / "run"
    (broken / "seed_0" / "level_01" / "winning").mkdir(parents=True)
    (broken / "config.json").write_bytes((run / "config.json").read_bytes())
    (broken / "seed_0" / "level_01" / "mask.safetensors").write_bytes((unit.parent / "mask.safetensors").read_bytes())
    for name in ("metrics.json", "final.pt"):
        (broken / "seed_0" / "level_01" / "winning" / name).write_bytes((unit / name).read_bytes()[:200])
    with pytest.raises(ValueError, match="final.pt is not a loadable fairseq checkpoint"):
        sx.export(broken / "seed_0" / "level_01" / "winning", tmp_path / "lm.safetensors")
