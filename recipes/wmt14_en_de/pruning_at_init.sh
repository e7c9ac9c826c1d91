#!/usr/bin/env bash
# IMP against pruning at initialization for the Transformer on WMT'14 En-De (after prepare.sh): one run
# folder per strategy and scope, RUNS/wmt14_<model>_<strategy>_<scope>: one-shot masks of W_0 at the 20
# levels' densities (found before training), winning tickets trained from W_0; the IMP runs are
# lottery_base.sh's / lottery_big.sh's. SNIP and GraSP score W_0 on PRUNING_BATCHES (default 1) training
# batches through the task's criterion.
# usage: MODEL=base recipes/wmt14_en_de/pruning_at_init.sh   (environment: as lottery_common.sh, and
#   MODEL (base or big), STRATEGIES)
set -euo pipefail
here=$(dirname "$0")
for strategy in ${STRATEGIES:-snip grasp synflow magnitude_init random}; do
    RUN_NAME="wmt14_${MODEL:-base}_$strategy" TICKETS=winning \
        IMP_ARGS="--pruning $strategy --schedule oneshot --rewind 0 ${PRUNING_BATCHES:+--pruning-batches $PRUNING_BATCHES} ${IMP_ARGS:-}" \
        bash "$here/lottery_${MODEL:-base}.sh"
done
