#!/usr/bin/env bash
# The deconstructing controls, fine-tuning and open_lth's random masks at CPU size, for the tiny
# Transformer and the tiny LSTM language model: per model OUT/<model>_kinds (every ticket kind under
# IMP's masks) and OUT/<model>_<criterion> (the other mask criteria: winning, supermask, random_reinit).
# usage: recipes/tiny/deconstructing.sh   (environment: OUT (runs/tiny_deconstructing), CRITERIA, MODELS, KINDS,
#   and the model recipes' own settings)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${OUT:-runs/tiny_deconstructing}
kinds=${KINDS:-winning random_reinit random_mask random_mask_global random_mask_even reshuffle sign_constant sign_random supermask finetune lr_rewind}
for model in ${MODELS:-translation language_model}; do
    budget=60it
    [ "$model" = language_model ] && budget=2ep
    TICKETS="$kinds" OUT="$out/${model}_kinds" IMP_ARGS="--pruning large_final --finetune-budget $budget" "$here/$model.sh"
    for criterion in ${CRITERIA:-small_final large_init large_init_large_final magnitude_increase movement}; do
        TICKETS="winning supermask random_reinit" OUT="$out/${model}_$criterion" IMP_ARGS="--pruning $criterion" \
            "$here/$model.sh"
    done
done
echo "done: lth-report $out/translation_*/run --compare --out ${out}_report/translation"
