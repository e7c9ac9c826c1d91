#!/usr/bin/env bash
# IMP against pruning at initialization at CPU size, for the tiny Transformer and the tiny LSTM language
# model (translation.sh, language_model.sh): per model, OUT/<model>_imp and OUT/<model>_<strategy>, the
# latter one-shot masks of W_0 at each level's density trained from W_0.
# usage: recipes/tiny/pruning_at_init.sh   (environment: OUT (runs/tiny_pruning_at_init), STRATEGIES, MODELS,
#   and the model recipes' own settings)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${OUT:-runs/tiny_pruning_at_init}
for model in ${MODELS:-translation language_model}; do
    TICKETS=winning OUT="$out/${model}_imp" "$here/$model.sh"
    for strategy in ${STRATEGIES:-snip grasp synflow magnitude_init random}; do
        TICKETS=winning OUT="$out/${model}_$strategy" IMP_ARGS="--pruning $strategy --schedule oneshot --rewind 0" \
            "$here/$model.sh"
    done
done
echo "done: lth-report $out/translation_*/run --compare --out ${out}_report/translation"
