"""Toy English for recipes/tiny/language_model.sh, in Wikitext's layout (wiki.{train,valid,test}.tokens).

Number agreement across relative clauses: each verb agrees with its own subject, however many words
back it is (what an LSTM learns and a bigram model cannot).

    python recipes/tiny/toy_english.py OUT_DIR
"""

import random
import sys
from pathlib import Path

NOUNS = ["cat", "dog", "child", "teacher", "friend", "farmer", "bird", "king"]
ADJECTIVES = ["old", "small", "happy", "tall", "red"]
TRANSITIVE = {"sees": "see", "likes": "like", "finds": "find", "helps": "help", "follows": "follow"}
INTRANSITIVE = {"sleeps": "sleep", "sings": "sing", "runs": "run", "waits": "wait"}


def noun_phrase(rng):
    """Words of 'the [adjective] noun[s]' and whether it is plural."""
    plural = rng.random() < 0.5
    adjective = [rng.choice(ADJECTIVES)] if rng.random() < 0.4 else []
    return ["the", *adjective, rng.choice(NOUNS) + ("s" if plural else "")], plural


def verb(rng, table, plural):
    singular = rng.choice(list(table))
    return table[singular] if plural else singular


def sentence(rng):
    subject, plural = noun_phrase(rng)
    if rng.random() < 0.35:  # an object relative clause between the subject and its verb
        inner, inner_plural = noun_phrase(rng)
        subject += ["that", *inner, verb(rng, TRANSITIVE, inner_plural)]
    if rng.random() < 0.5:
        return [*subject, verb(rng, INTRANSITIVE, plural), "."]
    return [*subject, verb(rng, TRANSITIVE, plural), *noun_phrase(rng)[0], "."]


def main(out):
    rng = random.Random(0)
    for split, lines in (("train", 3000), ("valid", 300), ("test", 300)):
        text = "".join(" ".join(sentence(rng)) + "\n" for _ in range(lines))
        (Path(out) / f"wiki.{split}.tokens").write_text(text)


if __name__ == "__main__":
    main(sys.argv[1])
