import pytest

import shared_mask as sm
from tests.shared_mask.models import TiedLM, mlp


def test_scope_all_includes_biases_norms_and_embeddings_once():
    model = TiedLM()
    assert sm.prunable(model, "all") == [
        "embed_tokens.weight",
        "hidden.weight",
        "hidden.bias",
        "norm.weight",
        "norm.bias",
    ]  # the tied output projection is the embedding: listed once


def test_scope_weights_drops_biases_and_norms():
    assert sm.prunable(TiedLM(), "weights") == ["embed_tokens.weight", "hidden.weight"]


def test_scope_no_embeddings_drops_tables_and_untied_output_projection():
    model = TiedLM()
    model.output_projection.weight = type(model.embed_tokens.weight)(model.embed_tokens.weight.detach().clone())
    assert sm.prunable(model, "no_embeddings") == ["hidden.weight", "hidden.bias", "norm.weight", "norm.bias"]


def test_include_and_exclude_regexes():
    model = mlp()
    assert sm.prunable(model, include=r"weight$") == ["0.weight", "2.weight", "4.weight"]
    assert sm.prunable(model, exclude=[r"^0\.", "bias"]) == ["2.weight", "4.weight"]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"scope": "everything"}, "unknown pruning scope 'everything'"),
        ({"include": "decoder"}, "include regex 'decoder' matches no parameter"),
        ({"exclude": "["}, "invalid exclude regex"),
        ({"include": "bias", "exclude": "bias"}, "no prunable parameters left"),
    ],
)
def test_bad_selection_is_a_clear_error(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("(", r"\(")):
        sm.prunable(mlp(), **kwargs)
