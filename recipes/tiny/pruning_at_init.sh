#!/usr/bin/env bash
# IMP against pruning at initialization at CPU size, for the tiny Transformer and the tiny LSTM language
# model (translation.sh, language_model.sh): per model, OUT/<model>_imp and OUT/<model>_<strategy>, the
# latter one-shot masks of W_0 at each level's density trained from W_0, all on the model's data in
# OUT/<model>, then the runs of each model compared in OUT/<model>_report
# (when there are two or more).
# usage: recipes/tiny/pruning_at_init.sh   (environment: OUT (runs/tiny_pruning_at_init), STRATEGIES, MODELS,
#   and the model recipes' own settings)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../toolkit_path.sh"
here=$(cd "$(dirname "$0")" && pwd)
out=${OUT:-runs/tiny_pruning_at_init}
for model in ${MODELS:-translation language_model}; do
    # The runs of a model share its data (made by the first) in OUT/<model>.
    DATA="$out/$model" TICKETS=winning OUT="$out/${model}_imp" "$here/$model.sh"
    for strategy in ${STRATEGIES:-snip grasp synflow magnitude_init random}; do
        DATA="$out/$model" TICKETS=winning OUT="$out/${model}_$strategy" \
            IMP_ARGS="--pruning $strategy --schedule oneshot --rewind 0" "$here/$model.sh"
    done
    runs=("$out/${model}"_*/run)
    if [ ${#runs[@]} -gt 1 ]; then  # one run (STRATEGIES=" ") has its own report only
        lth-report "${runs[@]}" --compare --out "$out/${model}_report"
    fi
done
