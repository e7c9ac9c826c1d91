#!/usr/bin/env bash
# The deconstructing controls, fine-tuning and open_lth's random masks at CPU size, for the tiny
# Transformer and the tiny LSTM language model: per model OUT/<model>_kinds (every ticket kind under
# IMP's masks) and OUT/<model>_<criterion> (the other mask criteria: winning, supermask, random_reinit), all
# on the model's data in OUT/<model>, then the runs of each model compared in OUT/<model>_report
# (when there are two or more).
# usage: recipes/tiny/deconstructing.sh   (environment: OUT (runs/tiny_deconstructing), CRITERIA, MODELS, KINDS,
#   and the model recipes' own settings)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../toolkit_path.sh"
here=$(cd "$(dirname "$0")" && pwd)
out=${OUT:-runs/tiny_deconstructing}
kinds=${KINDS:-winning random_reinit random_mask random_mask_global random_mask_even reshuffle sign_constant sign_random supermask finetune lr_rewind}
for model in ${MODELS:-translation language_model}; do
    budget=60it
    [ "$model" = language_model ] && budget=2ep
    # The runs of a model share its data (made by the first) in OUT/<model>.
    DATA="$out/$model" TICKETS="$kinds" OUT="$out/${model}_kinds" \
        IMP_ARGS="--pruning large_final --finetune-budget $budget" "$here/$model.sh"
    for criterion in ${CRITERIA:-small_final large_init large_init_large_final magnitude_increase movement}; do
        DATA="$out/$model" TICKETS="winning supermask random_reinit" OUT="$out/${model}_$criterion" \
            IMP_ARGS="--pruning $criterion" "$here/$model.sh"
    done
    runs=("$out/${model}"_*/run)
    if [ ${#runs[@]} -gt 1 ]; then  # one run (CRITERIA=" ") has its own report only
        lth-report "${runs[@]}" --compare --out "$out/${model}_report"
    fi
done
