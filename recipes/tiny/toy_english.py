"""Toy English for recipes/tiny/language_model.sh, in Wikitext's layout (wiki.{train,valid,test}.tokens).

Learnable, but not in a few updates: about 270 words in four noun classes, each verb taking subjects and
objects of its own classes (the farmer feeds the goats, the goats eat the apples), adjectives of each
class, places, and number agreement across relative clauses nested up to two deep, each verb agreeing
with its own subject however many words back it is and the relative pronoun with its noun's class
(who / that). The unigram model scores 3.95 nats per token on it; the recipe's small LSTM learns it to
about 2.4 nats in 8 epochs, after a plateau at the unigram model that sparse networks trained from
scratch do not leave in that budget.

    python recipes/tiny/toy_english.py OUT_DIR [TRAIN_LINES]
"""

import random
import sys
from pathlib import Path

CLASSES = {
    "person": "teacher farmer doctor child king queen sailor baker singer painter student writer soldier judge nurse "
    "pilot actor artist banker dancer driver guard hunter lawyer miner poet priest tailor waiter builder cook clerk",
    "animal": "cat dog bird horse goat wolf fox bear mouse lion rabbit duck owl frog snake tiger camel donkey eagle "
    "crow hawk lamb monkey otter parrot pig rat seal mule swan whale zebra",
    "food": "apple bread cake pear egg plum cookie onion carrot peach lemon melon bean nut pie grape",
    "thing": "book letter song poem map picture story note card sign drawing message report poster",
}
CLASSES = {name: words.split() for name, words in CLASSES.items()}
PLACES = "garden forest river village market castle field harbor city farm hill island lake school tower valley"
ADJECTIVES = {
    "person": "tall kind young old clever brave".split(),
    "animal": "wild small hungry fast quiet".split(),
    "food": "fresh ripe sweet sour".split(),
    "thing": "long short strange famous".split(),
}
# transitive verbs (singular form): the classes of their subjects and of their objects
TRANSITIVE = {
    "reads": ({"person"}, {"thing"}),
    "writes": ({"person"}, {"thing"}),
    "bakes": ({"person"}, {"food"}),
    "eats": ({"person", "animal"}, {"food"}),
    "chases": ({"animal"}, {"animal"}),
    "feeds": ({"person"}, {"animal"}),
    "sells": ({"person"}, {"food", "thing"}),
    "sees": ({"person", "animal"}, {"person", "animal"}),
    "helps": ({"person"}, {"person"}),
    "bites": ({"animal"}, {"person", "animal"}),
    "likes": ({"person", "animal"}, {"person", "animal", "food"}),
    "finds": ({"person", "animal"}, {"food", "thing"}),
}
INTRANSITIVE = {
    "sleeps": {"person", "animal"},
    "sings": {"person"},
    "laughs": {"person"},
    "barks": {"animal"},
    "runs": {"person", "animal"},
    "waits": {"person"},
    "hides": {"animal"},
    "falls": {"food", "thing"},
}


def agree(verb: str, plural: bool) -> str:
    """The verb's form for a plural or singular subject (chases -> chase, sees -> see)."""
    return (verb[:-2] if verb.endswith(("ches", "shes")) else verb[:-1]) if plural else verb


def noun_phrase(rng: random.Random, cls: str, depth: int) -> tuple[list[str], bool]:
    """Words of 'the [adjective] noun[s] [in the place] [who/that ... verb]' and whether it is plural."""
    plural = rng.random() < 0.5
    words = ["the", *([rng.choice(ADJECTIVES[cls])] if rng.random() < 0.4 else [])]
    noun = rng.choice(CLASSES[cls])
    words.append(noun + ("es" if noun.endswith(("ch", "sh")) else "s") if plural else noun)
    if rng.random() < 0.25:
        words += ["in", "the", rng.choice(PLACES.split())]
    if depth < 2 and cls in ("person", "animal") and rng.random() < 0.35:  # an object relative clause
        verb = rng.choice([v for v, (_, objects) in TRANSITIVE.items() if cls in objects])
        inner, inner_plural = noun_phrase(rng, rng.choice(sorted(TRANSITIVE[verb][0])), depth + 1)
        words += ["who" if cls == "person" else "that", *inner, agree(verb, inner_plural)]
    return words, plural


def sentence(rng: random.Random) -> list[str]:
    if rng.random() < 0.6:
        verb = rng.choice(list(TRANSITIVE))
        subjects, objects = TRANSITIVE[verb]
        subject, plural = noun_phrase(rng, rng.choice(sorted(subjects)), 0)
        return [*subject, agree(verb, plural), *noun_phrase(rng, rng.choice(sorted(objects)), 1)[0], "."]
    verb = rng.choice(list(INTRANSITIVE))
    subject, plural = noun_phrase(rng, rng.choice(sorted(INTRANSITIVE[verb])), 0)
    return [*subject, agree(verb, plural), "."]


def main(out: str, train_lines: int = 3000) -> None:
    rng = random.Random(0)
    for split, lines in (("train", train_lines), ("valid", 300), ("test", 300)):
        text = "".join(" ".join(sentence(rng)) + "\n" for _ in range(lines))
        (Path(out) / f"wiki.{split}.tokens").write_text(text)


if __name__ == "__main__":
    main(sys.argv[1], *map(int, sys.argv[2:3]))
