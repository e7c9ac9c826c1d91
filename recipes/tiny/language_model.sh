#!/usr/bin/env bash
# The Wikitext-2 LSTM lottery pipeline end to end at CPU size (a few minutes): the same
# binarization as recipes/wikitext2/, then a 2-level lottery (winning vs random_reinit tickets,
# late rewinding to the end of epoch 1) of a small LSTM language model with the paper's truncated
# BPTT of 50 tokens, batch 30 and Adam betas and eps, scored by test log perplexity (nats). The
# small model learns faster with a larger learning rate (1e-2) and less dropout (0.1) than the paper's.
# usage: recipes/tiny/language_model.sh [RAW]
#   RAW: a folder with wiki.train.tokens, wiki.valid.tokens, wiki.test.tokens (Wikitext's layout;
#   default: a synthetic corpus made here)
#   environment: OUT (default runs/tiny_language_model), LEVELS (2), EPOCHS (6), EMBED (64)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${OUT:-runs/tiny_language_model}
mkdir -p "$out"
raw=${1:-}
if [ -z "$raw" ]; then
    raw=$out/raw
    mkdir -p "$raw"
    # Toy English with number agreement across relative clauses: the verb agrees with the subject
    # it belongs to, however far back it is (what an LSTM learns and a bigram model cannot).
    python - "$raw" <<'PY'
import random, sys
rng = random.Random(0)
nouns = ["cat", "dog", "child", "teacher", "friend", "farmer", "bird", "king"]
verbs = {"sees": "see", "likes": "like", "finds": "find", "helps": "help", "follows": "follow"}
intrans = {"sleeps": "sleep", "sings": "sing", "runs": "run", "waits": "wait"}
adjs = ["old", "small", "happy", "tall", "red"]
def noun_phrase():
    plural = rng.random() < 0.5
    words = ["the"] + ([rng.choice(adjs)] if rng.random() < 0.4 else []) + [rng.choice(nouns) + ("s" if plural else "")]
    return words, plural
def verb(table, plural):
    singular = rng.choice(list(table))
    return table[singular] if plural else singular
def sentence(depth=0):
    subject, plural = noun_phrase()
    if depth < 2 and rng.random() < 0.35:  # a relative clause between subject and verb
        obj, _ = noun_phrase()
        subject += ["that"] + obj + [verb(verbs, _)]
    if rng.random() < 0.5:
        return subject + [verb(intrans, plural)]
    obj, _ = noun_phrase()
    return subject + [verb(verbs, plural)] + obj
for split, n in (("train", 3000), ("valid", 300), ("test", 300)):
    with open(f"{sys.argv[1]}/wiki.{split}.tokens", "w") as f:
        f.writelines(" ".join(sentence() + ["."]) + "\n" for _ in range(n))
PY
fi

WORKERS=${WORKERS:-2} "$here/../wikitext2/preprocess.sh" "$raw" "$out"

embed=${EMBED:-64}
fairseq-lth-imp --task lottery_language_modeling --data "$out/bin" --out "$out/run" --levels "${LEVELS:-2}" \
    --seeds 0 --tickets winning random_reinit --rewind 1ep --scope all --average-last 1 --cpu \
    -- --arch lottery_lstm_wikitext2 --decoder-embed-dim "$embed" --decoder-hidden-size "$embed" --dropout 0.1 \
    --tokens-per-sample 50 --sample-break-mode none --batch-size 30 --required-batch-size-multiple 1 \
    --criterion cross_entropy --optimizer adam --adam-betas '(0.9, 0.999)' --adam-eps 1e-3 --lr 1e-2 \
    --lr-scheduler fixed --max-epoch "${EPOCHS:-6}" --no-epoch-checkpoints --cpu --num-workers 0 --log-interval 50
