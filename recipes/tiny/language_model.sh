#!/usr/bin/env bash
# The Wikitext-2 LSTM lottery pipeline end to end at CPU size (a few minutes): the same
# binarization as recipes/wikitext2/, then a 2-level lottery (winning vs random_reinit tickets,
# late rewinding to the end of epoch 1) of a small LSTM language model with the paper's truncated
# BPTT of 50 tokens, batch 30 and Adam betas and eps, scored by test log perplexity (nats). The
# small model learns faster with a larger learning rate (1e-2) and less dropout (0.1) than the paper's.
# usage: recipes/tiny/language_model.sh [RAW]
#   RAW: a folder with wiki.train.tokens, wiki.valid.tokens, wiki.test.tokens (Wikitext's layout;
#   default: a synthetic corpus made here)
#   environment: OUT (default runs/tiny_language_model), LEVELS (2), SEEDS ("0 1"), EPOCHS (6), EMBED (64), TICKETS,
#   IMP_ARGS (more fairseq-lth-imp options; recipes/tiny/pruning_at_init.sh and deconstructing.sh use them)
# It ends with the table of test log perplexity per level (mean ± std over the seeds) and the report in
# OUT/report.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../toolkit_path.sh"
here=$(cd "$(dirname "$0")" && pwd)
out=${OUT:-runs/tiny_language_model}
raw=${1:-$out/raw}
if [ -z "${1:-}" ]; then
    mkdir -p "$raw"
    python "$here/toy_english.py" "$raw"
fi

WORKERS=${WORKERS:-2} "$here/../wikitext2/preprocess.sh" "$raw" "$out"

embed=${EMBED:-64}
fairseq-lth-imp --task lottery_language_modeling --data "$out/bin" --out "$out/run" --levels "${LEVELS:-2}" \
    --seeds ${SEEDS:-0 1} --tickets ${TICKETS:-winning random_reinit} --rewind 1ep --scope all --average-last 1 --cpu \
    ${IMP_ARGS:-} \
    -- --arch lottery_lstm_wikitext2 --decoder-embed-dim "$embed" --decoder-hidden-size "$embed" --dropout 0.1 \
    --tokens-per-sample 50 --sample-break-mode none --batch-size 30 --required-batch-size-multiple 1 \
    --criterion cross_entropy --optimizer adam --adam-betas '(0.9, 0.999)' --adam-eps 1e-3 --lr 1e-2 \
    --lr-scheduler fixed --max-epoch "${EPOCHS:-6}" --no-epoch-checkpoints --cpu --num-workers 0 --log-interval 50

lth-report "$out/run" --out "$out/report"
cat "$out/report/summary.md"
