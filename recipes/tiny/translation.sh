#!/usr/bin/env bash
# The WMT'14 En-De lottery pipeline end to end at CPU size (a few minutes): the same tokenization,
# joint BPE and binarization as recipes/wmt14_en_de/, then a 2-level lottery (winning vs
# random_reinit tickets, late rewinding) of a tiny Transformer, scored by tokenized BLEU.
# usage: recipes/tiny/translation.sh [RAW]
#   RAW: a folder with train.{en,de}, valid.{en,de}, test.{en,de} (default: a synthetic corpus made here)
#   environment: OUT (default runs/tiny_translation), LEVELS (2), SEEDS ("0 1"), MAX_UPDATE (120), TICKETS,
#   IMP_ARGS (more fairseq-lth-imp options; recipes/tiny/pruning_at_init.sh and deconstructing.sh use them),
#   DATA (the folder of the data, raw/ and its steps to bin/: default OUT; data made earlier there is kept)
# It ends with the table of BLEU per level (mean ± std over the seeds) and the report in OUT/report.
#   The studies: IMP_ARGS="--tickets winning random_reinit early_bird --early-bird-every 30it
#   --stability-points 0 30it 60it --stability-levels 0 2"
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../toolkit_path.sh"
# One thread per fairseq program unless told otherwise: a model this small gains nothing from more, and
# threads that share cores with other programs spin (measured: several times the CPU per update).
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
here=$(cd "$(dirname "$0")" && pwd)
out=${OUT:-runs/tiny_translation}
data=${DATA:-$out}
raw=${1:-$data/raw}
if [ -z "${1:-}" ] && [ ! -d "$data/bin" ]; then
    mkdir -p "$raw"
    # A toy English -> German: word-for-word with German verb-final order in subordinate clauses.
    python - "$raw" <<'PY'
import random, sys
rng = random.Random(0)
nouns = {"cat": "Katze", "dog": "Hund", "house": "Haus", "child": "Kind", "car": "Auto", "tree": "Baum",
         "book": "Buch", "city": "Stadt", "friend": "Freund", "teacher": "Lehrer", "garden": "Garten"}
verbs = {"sees": "sieht", "likes": "mag", "buys": "kauft", "finds": "findet", "visits": "besucht", "paints": "malt"}
adjs = {"big": "große", "small": "kleine", "old": "alte", "new": "neue", "red": "rote", "happy": "glückliche"}
def phrase():
    n, a = rng.choice(list(nouns)), rng.choice(list(adjs))
    return f"the {a} {n}", f"die {adjs[a]} {nouns[n]}"
def sentence():
    (s_en, s_de), (o_en, o_de), v = phrase(), phrase(), rng.choice(list(verbs))
    if rng.random() < 0.5:
        return f"{s_en} {v} {o_en} .", f"{s_de} {verbs[v]} {o_de} ."
    (t_en, t_de), w = phrase(), rng.choice(list(verbs))
    return (f"{s_en} {v} {o_en} , because {t_en} {w} it .",
            f"{s_de} {verbs[v]} {o_de} , weil {t_de} es {verbs[w]} .")
for split, n in (("train", 3000), ("valid", 100), ("test", 100)):
    pairs = [sentence() for _ in range(n)]
    for i, l in enumerate(("en", "de")):
        with open(f"{sys.argv[1]}/{split}.{l}", "w") as f:
            f.writelines(p[i][0].upper() + p[i][1:] + "\n" for p in pairs)
PY
fi

WORKERS=${WORKERS:-2} "$here/../wmt14_en_de/preprocess.sh" "$raw" "$data" 300

fairseq-lth-imp --data "$data/bin" --out "$out/run" --levels "${LEVELS:-2}" --seeds ${SEEDS:-0 1} \
    --tickets ${TICKETS:-winning random_reinit} --rewind 30it --scope all --average-last 3 --beam 4 --lenpen 0.6 --cpu \
    ${IMP_ARGS:-} \
    -- --arch transformer --share-all-embeddings --encoder-layers 1 --decoder-layers 1 \
    --encoder-embed-dim 64 --decoder-embed-dim 64 --encoder-ffn-embed-dim 128 --decoder-ffn-embed-dim 128 \
    --encoder-attention-heads 2 --decoder-attention-heads 2 --dropout 0.1 \
    --optimizer adam --adam-betas '(0.9, 0.98)' --lr 0.003 --lr-scheduler inverse_sqrt --warmup-updates 50 \
    --criterion label_smoothed_cross_entropy --label-smoothing 0.1 --max-tokens 2000 \
    --max-update "${MAX_UPDATE:-120}" --save-interval-updates 30 --keep-interval-updates 3 --keep-last-epochs 3 \
    --disable-validation --cpu --num-workers 0 --log-interval 25

lth-report "$out/run" --out "$out/report"
cat "$out/report/summary.md"
