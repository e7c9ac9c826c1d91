#!/usr/bin/env bash
# Ticket transfer across language pairs (beyond the paper; Morcos et al. 2019): every level of an
# En-De Transformer lottery (seed 0, scope no_embeddings: the transformer layers, whose shapes do not
# depend on the vocabulary) trained on another pair with random controls of the same per-tensor
# counts, beside that pair's own dense network (and its own lottery with LEVELS > 0). The embeddings
# (another joint dictionary) start from the target's own initialization and stay dense; transfer.json
# and lth-report say so. Same model and recipe as the source (lottery_base.sh or lottery_big.sh).
# usage: DATA=data/wmt14_en_fr/bin recipes/wmt14_en_de/transfer.sh
#   DATA: the other pair, binarized with one joined dictionary (like preprocess.sh; e.g. from fairseq's
#     examples/translation/prepare-wmt14en2fr.sh followed by fairseq-preprocess --joined-dictionary)
#   MODEL (base or big), SOURCE (default runs/wmt14_MODEL_no_embeddings/seed_0: a finished or partly
#   finished En-De lottery; RUNS/seed_<s>/level_<kk> transfers one level), LEVELS (0), RUNS, SEEDS
# Then: lth-report RUNS/transfer_MODEL_<pair>_no_embeddings --out report/
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../toolkit_path.sh"
: "${DATA:?set DATA to the binarized data directory of the other language pair}"
MODEL=${MODEL:-base}
SOURCE=${SOURCE:-${RUNS:-runs}/wmt14_${MODEL}_no_embeddings/seed_0}
pair=$(basename "$(dirname "$DATA")")
SCOPES=no_embeddings LEVELS=${LEVELS:-0} RUN_NAME=${RUN_NAME:-transfer_${MODEL}_${pair}} \
    IMP_ARGS="--transfer-from $SOURCE ${IMP_ARGS:-}" exec "$(dirname "$0")/lottery_$MODEL.sh"
