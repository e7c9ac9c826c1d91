"""--task lottery_language_modeling and --arch lottery_lstm_wikitext2 under the real fairseq-train and
fairseq-eval-lm, through a 1-level IMP run (kept checkpoints) shared by the tests of this module."""

import csv
import json
import random

import pytest
import torch
from fairseq import checkpoint_utils, options, tasks
from fairseq.dataclass.utils import convert_namespace_to_omegaconf
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from torch import nn

import shared_mask as sm
from fairseq_lth.driver import imp
from fairseq_lth.driver.evaluate_lm import LMEvalConfig
from fairseq_lth.driver.processes import PLUGIN_DIR
from fairseq_lth.driver.trainer import FairseqTrainer
from fairseq_lth.plugin.checkpoint_compat import load_checkpoint

from .conftest import fairseq, optimizer_moments

pytestmark = pytest.mark.duration(75)

TASK = "lottery_language_modeling"
EPOCHS = 3
# A 2-layer, 16-dim LSTM on 16-token blocks, 6 blocks a batch: 10 updates per epoch on the text below
# (110 lines of 7 words and an end of sentence: 880 tokens, 55 blocks).
LM_ARGS = [
    "--arch",
    "lottery_lstm_wikitext2",
    "--decoder-embed-dim",
    "16",
    "--decoder-hidden-size",
    "16",
    "--tokens-per-sample",
    "16",
    "--batch-size",
    "6",
    "--required-batch-size-multiple",
    "1",
    "--optimizer",
    "adam",
    "--adam-betas",
    "(0.9, 0.999)",
    "--adam-eps",
    "1e-3",
    "--lr",
    "1e-2",
    "--max-epoch",
    str(EPOCHS),
    "--cpu",
    "--num-workers",
    "0",
    "--log-interval",
    "1",
]
UPDATES_PER_EPOCH = 10


def write_text(folder, seed=0):
    """Sentences of a small grammar: 'the <adj> <noun> <verb> the <noun> .'"""
    rng = random.Random(seed)
    adjs, nouns, verbs = ["big", "red", "old"], ["cat", "dog", "car", "tree", "book"], ["sees", "likes", "buys"]
    for split, n in (("train", 110), ("valid", 12), ("test", 15)):
        lines = [
            f"the {rng.choice(adjs)} {rng.choice(nouns)} {rng.choice(verbs)} the {rng.choice(nouns)} ."
            for _ in range(n)
        ]
        (folder / f"{split}.txt").write_text("".join(line + "\n" for line in lines))


@pytest.fixture(scope="module")
def lm_data(tmp_path_factory):
    raw = tmp_path_factory.mktemp("lm_raw")
    write_text(raw)
    out = raw / "bin"
    fairseq(
        "fairseq-preprocess",
        "--only-source",
        "--trainpref",
        raw / "train.txt",
        "--validpref",
        raw / "valid.txt",
        "--testpref",
        raw / "test.txt",
        "--destdir",
        out,
        "--workers",
        "1",
    )
    return out


def run_imp(data, out):
    imp.main(
        [
            "--data",
            str(data),
            "--out",
            str(out),
            "--task",
            TASK,
            "--levels",
            "1",
            "--seeds",
            "0",
            "--tickets",
            "winning",
            "random_reinit",
            "--keep-checkpoints",
            "--cpu",
            "--no-progress",
            "--",
            *LM_ARGS,
        ]
    )


@pytest.fixture(scope="module")
def lottery(lm_data, tmp_path_factory):
    out = tmp_path_factory.mktemp("lm_imp") / "run"
    run_imp(lm_data, out)
    return out


@pytest.fixture(scope="module")
def lm_builder(lm_data):
    return FairseqTrainer(str(lm_data), LM_ARGS, "all", LMEvalConfig(cpu=True), task=TASK)


def setup_task(data, *args):
    """The task as fairseq-train sets it up (parsing included)."""
    parsed = options.parse_args_and_arch(
        options.get_training_parser(), [str(data), "--user-dir", PLUGIN_DIR, "--task", TASK, *LM_ARGS, *map(str, args)]
    )
    cfg = convert_namespace_to_omegaconf(parsed)
    return cfg, tasks.setup_task(cfg.task)


def test_the_architecture_is_the_papers_on_a_fused_lstm(lm_data):
    cfg, task = setup_task(lm_data, "--arch", "lottery_lstm_wikitext2")
    cfg.model.decoder_embed_dim = cfg.model.decoder_hidden_size = 650  # the paper's sizes (LM_ARGS shrink them)
    model = task.build_model(cfg.model)
    decoder = model.decoder
    assert isinstance(decoder.lstm, nn.LSTM) and not any(isinstance(m, nn.LSTMCell) for m in model.modules())
    assert (decoder.lstm.input_size, decoder.lstm.hidden_size, decoder.lstm.num_layers) == (650, 650, 2)
    assert decoder.lstm.dropout == 0.5 and decoder.dropout_module.p == 0.5
    assert decoder.output_projection.weight is not decoder.embed_tokens.weight  # untied by default
    names = [name for name, _ in model.named_parameters()]
    assert sm.prunable(model, "all") == names  # every parameter, biases and embeddings included
    assert {"decoder.embed_tokens.weight", "decoder.lstm.bias_ih_l1", "decoder.output_projection.bias"} <= set(names)
    assert set(names) - set(sm.prunable(model, "no_embeddings")) == {
        "decoder.embed_tokens.weight",
        "decoder.output_projection.weight",
    }


def test_tied_output_layer_is_one_mask_entry(lm_data):
    cfg, task = setup_task(lm_data, "--share-decoder-input-output-embed")
    model = task.build_model(cfg.model)
    assert model.decoder.output_projection.weight is model.decoder.embed_tokens.weight
    assert "decoder.output_projection.weight" not in sm.prunable(model, "all")
    cfg, task = setup_task(lm_data, "--share-decoder-input-output-embed", "--decoder-hidden-size", "8")
    with pytest.raises(ValueError, match="equal to --decoder-hidden-size"):
        task.build_model(cfg.model)


def test_incremental_decoding_matches_the_full_forward(lm_builder):
    model = lm_builder.build_model(0).eval()
    tokens = torch.randint(4, 20, (3, 7))
    with torch.no_grad():
        full = model(tokens)[0]
        state, steps = {}, []
        for t in range(tokens.size(1)):
            steps.append(model(tokens[:, : t + 1], incremental_state=state)[0])
            if t == 3:  # a beam reordering keeps each row's LSTM state with its row
                order = torch.tensor([2, 0, 1])
                model.decoder.reorder_incremental_state_scripting(state, order)
                tokens, full = tokens[order], full[order]
                steps = [s[order] for s in steps]
    torch.testing.assert_close(torch.cat(steps, dim=1), full)


@pytest.mark.parametrize(
    "lth_args,expected",
    [
        ([], "end of epoch 1"),
        (["--lth-rewind-updates", "5"], "update 5"),
        (["--lth-rewind-epochs", "2"], "end of epoch 2"),
    ],
)
def test_rewind_point_defaults_to_the_end_of_epoch_1(lm_data, lth_args, expected):
    assert str(setup_task(lm_data, *lth_args)[1].lottery.point) == expected


def test_rewind_point_is_given_once(lm_data, monkeypatch):
    monkeypatch.setenv("LTH_DEBUG", "1")  # the error itself, not the one line (tests/fairseq_lth/test_options.py)
    with pytest.raises(ValueError, match="not both"):
        setup_task(lm_data, "--lth-rewind-updates", "5", "--lth-rewind-epochs", "1")


def test_rewind_checkpoint_is_fairseqs_checkpoint_at_the_end_of_epoch_1(lottery):
    seed = lottery / "seed_0"
    assert json.loads((lottery / "config.json").read_text())["lottery"]["rewind"] == "1ep"
    rewind = load_checkpoint(seed / "rewind.pt")
    assert rewind["optimizer_history"][-1]["num_updates"] == UPDATES_PER_EPOCH
    assert rewind["extra_state"]["train_iterator"]["epoch"] == 2
    assert rewind["extra_state"]["train_iterator"]["iterations_in_epoch"] == 0
    epoch_1 = load_checkpoint(seed / "level_00" / "dense" / "checkpoints" / "checkpoint1.pt")["model"]
    assert all(torch.equal(rewind["model"][name], tensor) for name, tensor in epoch_1.items())


@pytest.mark.parametrize("ticket", ["winning", "random_reinit"])
def test_pruned_weights_and_moments_are_exactly_zero_in_every_checkpoint(lottery, lm_builder, ticket):
    level = lottery / "seed_0" / "level_01"
    mask = sm.Mask.load(level / "mask.safetensors")
    rewound = load_checkpoint(lottery / "seed_0" / "rewind.pt")["model"]
    paths = sorted((level / ticket / "checkpoints").glob("checkpoint*.pt"))
    assert {p.name for p in paths} >= {"checkpoint2.pt", "checkpoint3.pt", "checkpoint_last.pt"}
    for path in paths:
        state = load_checkpoint(path)
        weights, moments = state["model"], optimizer_moments(state, lm_builder)
        assert set(mask.names()) == set(weights)  # the mask covers every parameter, LSTM biases included
        for name, kept in mask.items():
            assert not weights[name][~kept].any(), f"{path.name}: pruned entries of {name} are not zero"
            assert all(not m[~kept].any() for m in moments[name]), f"{path.name}: moments of {name}"
    final = load_checkpoint(paths[-1])["model"]
    assert not torch.equal(final["decoder.lstm.weight_hh_l0"], rewound["decoder.lstm.weight_hh_l0"])  # it trained


def test_every_ticket_and_level_has_its_test_log_perplexity(lottery, lm_data):
    config = json.loads((lottery / "config.json").read_text())["trainer"]
    assert (config["task"], config["metric"], config["higher_is_better"]) == (TASK, "test_log_ppl", False)
    assert config["experiment"] == lm_data.parent.name  # DATASET/bin is named after DATASET
    with open(lottery / "results.csv") as f:
        rows = list(csv.DictReader(f))
    assert [(r["level"], r["ticket"], r["metric"]) for r in rows] == [
        ("0", "dense", "test_log_ppl"),
        ("1", "random_reinit", "test_log_ppl"),
        ("1", "winning", "test_log_ppl"),
    ]
    assert [round(float(r["density"]), 3) for r in rows] == [1.0, 0.8, 0.8]
    assert len({r["value"] for r in rows}) == 3


def test_test_log_perplexity_is_the_mean_nll_in_nats(lottery):
    """Recomputed in-process from final.pt over the test blocks (fairseq reports base 2; the metric is nats)."""
    unit = lottery / "seed_0" / "level_01" / "winning"
    models, _, task = checkpoint_utils.load_model_ensemble_and_task([str(unit / "final.pt")])
    model = models[0].eval()
    task.load_dataset("test")
    nll, count = 0.0, 0
    with torch.no_grad():
        for item in task.dataset("test"):
            log_probs = torch.log_softmax(model(item["source"][None])[0][0].double(), dim=-1)
            nll -= log_probs.gather(1, item["target"][:, None]).sum().item()
            count += item["target"].numel()
    metrics = json.loads((unit / "metrics.json").read_text())["metrics"]
    assert metrics["test_log_ppl"] == pytest.approx(nll / count, abs=1e-5)


def test_validation_loss_per_epoch_goes_to_tensorboard(lottery):
    events = EventAccumulator(str(lottery / "seed_0" / "level_00" / "dense" / "tb" / "valid")).Reload()
    for tag in ("loss", "log_ppl"):
        assert [e.step for e in events.Scalars(tag)] == [UPDATES_PER_EPOCH * (e + 1) for e in range(EPOCHS)]


def test_rerun_skips_finished_units_and_redoes_an_interrupted_one(lm_data, lottery):
    seed = lottery / "seed_0"
    done = {p: p.stat().st_mtime_ns for p in seed.glob("level_*/*/metrics.json")}
    masks = {p: p.read_bytes() for p in seed.glob("level_*/mask.safetensors")}
    interrupted = seed / "level_01" / "random_reinit"
    metrics = json.loads((interrupted / "metrics.json").read_text())["metrics"]
    weights = load_checkpoint(interrupted / "final.pt")["model"]
    for name in ("final.pt", "scores.json", "metrics.json"):  # as if killed as fairseq-train ended
        (interrupted / name).unlink()
    run_imp(lm_data, lottery)
    assert json.loads((interrupted / "metrics.json").read_text())["metrics"] == metrics
    resumed = load_checkpoint(interrupted / "final.pt")["model"]
    assert all(torch.equal(resumed[name], tensor) for name, tensor in weights.items())
    assert "resuming" in (interrupted / "train.log").read_text()  # from its own kept checkpoint_last.pt
    assert all(p.stat().st_mtime_ns == t for p, t in done.items() if p.parent != interrupted)
    assert all(p.read_bytes() == b for p, b in masks.items())


def test_driver_refuses_translation_data_and_translation_options(tmp_path, lm_data):
    (tmp_path / "dict.en.txt").write_text("a 1\n")
    with pytest.raises(FileNotFoundError, match="no dict.txt; make one with fairseq-preprocess --only-source"):
        FairseqTrainer(str(tmp_path), LM_ARGS, "all", LMEvalConfig(), task=TASK)
    with pytest.raises(SystemExit):
        imp.main(
            ["--data", str(lm_data), "--out", str(tmp_path / "run"), "--task", TASK, "--beam", "4", "--", *LM_ARGS]
        )
    assert not (tmp_path / "run").exists()


def test_pruning_at_init_and_the_final_learning_rate_on_the_lstm(lm_builder):
    """The driver's hooks on the LSTM language model (SNIP, GraSP through the recurrence, SynFlow's
    embedding and LSTM treatment) and fine-tuning's rate under --max-epoch with the fixed schedule."""
    from fairseq_lth.driver.finetune import final_learning_rate

    model = lm_builder.build_model(0)
    mask = sm.Mask.dense(model, sm.prunable(model, "all"))
    context = sm.PruningContext(
        batch_losses=lambda m, n: lm_builder.batch_losses(m, n, seed=0), ones_output=lm_builder.ones_output
    )
    synflow = type(sm.PRUNING["synflow"])()
    synflow.rounds = 4  # the hooks are under test; the 100 rounds are tested on small models
    for strategy in (sm.PRUNING["snip"], sm.PRUNING["grasp"], synflow):
        assert strategy.prune_to_density(model, mask, 0.3, context).alive() == round(0.3 * mask.numel())
    assert final_learning_rate(*lm_builder._setup(), model) == pytest.approx(1e-2)
