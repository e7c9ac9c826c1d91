"""Which parameters are prunable: scopes and include/exclude regexes."""

from __future__ import annotations

import re
from collections.abc import Iterable

from torch import nn

SCOPES = ("all", "weights", "no_embeddings")

# Output projections are embedding-sized tables even when they are not tied to an nn.Embedding.
_EMBEDDING_NAME = re.compile(r"(^|\.)(embed_tokens|embed_positions|embed_out|output_projection|lm_head)(\.|$)")


def embedding_parameters(model: nn.Module) -> set[str]:
    """Names of embedding tables and output projections (tied aliases resolve to one name)."""
    tables = {id(p) for m in model.modules() if isinstance(m, nn.Embedding) for p in m.parameters(recurse=False)}
    return {
        name
        for name, p in model.named_parameters()
        if id(p) in tables or (_EMBEDDING_NAME.search(name) and p.dim() >= 2)
    }


def prunable(
    model: nn.Module,
    scope: str | None = "all",
    include: Iterable[str] | str | None = None,
    exclude: Iterable[str] | str | None = None,
) -> list[str]:
    """Names of the parameters to prune, in the model's parameter order.

    scope: "all" (every parameter, biases, norms and embeddings included), "weights" (tensors of
    two or more dimensions: no biases or norm scales), "no_embeddings" (everything but embedding
    tables and output projections). include/exclude are regexes searched in the names; a pattern
    that matches nothing is an error, as is an empty selection. Tied parameters appear once, under
    the first name PyTorch gives them, so they are counted and pruned once and stay tied.
    """
    params = dict(model.named_parameters())
    if scope not in SCOPES:
        raise ValueError(f"unknown pruning scope {scope!r}; choose one of {', '.join(SCOPES)}")
    if scope == "weights":
        names = [n for n, p in params.items() if p.dim() >= 2]
    elif scope == "no_embeddings":
        embeddings = embedding_parameters(model)
        names = [n for n in params if n not in embeddings]
    else:
        names = list(params)
    if include is not None:
        patterns = _compile(include, params, "include")
        names = [n for n in names if any(p.search(n) for p in patterns)]
    if exclude is not None:
        patterns = _compile(exclude, params, "exclude")
        names = [n for n in names if not any(p.search(n) for p in patterns)]
    if not names:
        raise ValueError(f"no prunable parameters left for scope={scope!r}, include={include!r}, exclude={exclude!r}")
    return names


def _compile(patterns: Iterable[str] | str, params: dict, what: str) -> list[re.Pattern]:
    if isinstance(patterns, str):
        patterns = [patterns]
    compiled = []
    for text in patterns:
        try:
            pattern = re.compile(text)
        except re.error as e:
            raise ValueError(f"invalid {what} regex {text!r}: {e}") from None
        if not any(pattern.search(n) for n in params):
            raise ValueError(f"{what} regex {text!r} matches no parameter of the model")
        compiled.append(pattern)
    return compiled
