#!/usr/bin/env bash
# The Wikitext-2 LSTM lottery pipeline end to end at CPU size (a few minutes): the same
# binarization as recipes/wikitext2/, then a 2-level lottery (winning vs random_reinit tickets,
# late rewinding to the end of epoch 1, 60% of the surviving weights pruned per level: densities 0.4
# and 0.16) of a small LSTM language model with the paper's truncated BPTT of 50 tokens, batch 30 and
# Adam betas, scored by test log perplexity (nats). The small model needs a larger learning rate (2e-2),
# less dropout (0.1) and fairseq's Adam eps (1e-8: with the paper's 1e-3 it stays at the unigram
# model for epochs) to learn the toy corpus in 8 epochs.
# usage: recipes/tiny/language_model.sh [RAW]
#   RAW: a folder with wiki.train.tokens, wiki.valid.tokens, wiki.test.tokens (Wikitext's layout;
#   default: a synthetic corpus made here, see toy_english.py)
#   environment: OUT (default runs/tiny_language_model), LEVELS (2), RATE (0.6), SEEDS ("0 1"), EPOCHS (8),
#   EMBED (64), LINES (3000 training sentences of the synthetic corpus), TICKETS,
#   IMP_ARGS (more fairseq-lth-imp options; recipes/tiny/pruning_at_init.sh and deconstructing.sh use them),
#   DATA (the folder of the data, raw/ and bin/: default OUT; data made earlier there is kept)
# It ends with the table of test log perplexity per level (mean ± std over the seeds) and the report in
# OUT/report.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../toolkit_path.sh"
# One thread per fairseq program unless told otherwise: a model this small gains nothing from more, and
# threads that share cores with other programs spin (measured: several times the CPU per update).
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
here=$(cd "$(dirname "$0")" && pwd)
out=${OUT:-runs/tiny_language_model}
data=${DATA:-$out}
raw=${1:-$data/raw}
if [ -z "${1:-}" ] && [ ! -d "$data/bin" ]; then
    mkdir -p "$raw"
    python "$here/toy_english.py" "$raw" "${LINES:-3000}"
fi
WORKERS=${WORKERS:-2} "$here/../wikitext2/preprocess.sh" "$raw" "$data"

embed=${EMBED:-64}
fairseq-lth-imp --task lottery_language_modeling --data "$data/bin" --out "$out/run" --levels "${LEVELS:-2}" \
    --rate "${RATE:-0.6}" \
    --seeds ${SEEDS:-0 1} --tickets ${TICKETS:-winning random_reinit} --rewind 1ep --scope all --average-last 1 --cpu \
    ${IMP_ARGS:-} \
    -- --arch lottery_lstm_wikitext2 --decoder-embed-dim "$embed" --decoder-hidden-size "$embed" --dropout 0.1 \
    --tokens-per-sample 50 --sample-break-mode none --batch-size 30 --required-batch-size-multiple 1 \
    --criterion cross_entropy --optimizer adam --adam-betas '(0.9, 0.999)' --adam-eps 1e-8 --lr 2e-2 \
    --lr-scheduler fixed --max-epoch "${EPOCHS:-8}" --no-epoch-checkpoints --cpu --num-workers 0 --log-interval 50

lth-report "$out/run" --out "$out/report"
cat "$out/report/summary.md"
