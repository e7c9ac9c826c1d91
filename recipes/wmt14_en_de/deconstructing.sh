#!/usr/bin/env bash
# The deconstructing controls, fine-tuning and open_lth's random masks for the Transformer on WMT'14
# En-De (after prepare.sh): RUNS/wmt14_<model>_deconstructing_<scope> (every ticket kind under IMP's
# masks; finetune trains FINETUNE, default 50000it, the whole budget, at the schedule's final learning
# rate) and one run per other mask criterion, RUNS/wmt14_<model>_<criterion>_<scope>.
# usage: MODEL=base recipes/wmt14_en_de/deconstructing.sh   (environment: as lottery_common.sh, and
#   MODEL (base or big), CRITERIA, FINETUNE)
set -euo pipefail
here=$(dirname "$0")
kinds="winning random_reinit random_mask random_mask_global random_mask_even reshuffle sign_constant sign_random supermask finetune lr_rewind"
RUN_NAME="wmt14_${MODEL:-base}_deconstructing" TICKETS="$kinds" \
    IMP_ARGS="--pruning large_final --finetune-budget ${FINETUNE:-50000it} ${IMP_ARGS:-}" bash "$here/lottery_${MODEL:-base}.sh"
for criterion in ${CRITERIA:-small_final large_init large_init_large_final magnitude_increase movement}; do
    RUN_NAME="wmt14_${MODEL:-base}_$criterion" TICKETS="winning supermask random_reinit" \
        IMP_ARGS="--pruning $criterion ${IMP_ARGS:-}" bash "$here/lottery_${MODEL:-base}.sh"
done
