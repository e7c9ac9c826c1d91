#!/usr/bin/env bash
# The "deconstructing lottery tickets" controls (Zhou, Lan, Liu & Yosinski 2019), fine-tuning (Renda,
# Frankle & Carbin 2020) and open_lth's random masks on classic control: per game
#   <game>_kinds:        IMP's masks (large_final), every ticket kind under them: winning, random_reinit,
#                        random_mask, random_mask_global, random_mask_even, reshuffle, sign_constant,
#                        sign_random, supermask (scored with no training), finetune (the trained weights,
#                        FINETUNE more batches at the final, here constant, learning rate), lr_rewind
#   <game>_<criterion>:  the other mask criteria (small_final, large_init, large_init_large_final,
#                        magnitude_increase, movement) with winning, supermask and random_reinit tickets
# 20 levels of 20%, 3 seeds, late rewinding to epoch 1. summary.md holds one ablation table per run
# (ticket kinds by fraction pruned); `lth-report --compare` overlays the criteria.
#
#   recipes/rl/deconstructing.sh                                   # CartPole-v0 and Acrobot-v1
#   DEMO=1 recipes/rl/deconstructing.sh                            # demo scale: CartPole, 3 levels at 50%,
#                                                                  # 2 seeds, rl-lth demo's budget
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../toolkit_path.sh"

OUT=${OUT:-runs/deconstructing}
GAMES=${GAMES-CartPole-v0 Acrobot-v1}
LEVELS=${LEVELS:-20}
SEEDS=${SEEDS:-0 1 2}
JOBS=${JOBS:-1}
FINETUNE=${FINETUNE:-10ep}  # the classic-control presets' whole training budget (10 epochs)
CRITERIA=${CRITERIA:-small_final large_init large_init_large_final magnitude_increase movement}
KINDS=${KINDS:-winning random_reinit random_mask random_mask_global random_mask_even reshuffle sign_constant sign_random supermask finetune lr_rewind}
RL_LTH=${RL_LTH:-rl-lth}
EXTRA_ARGS=${EXTRA_ARGS:-}
source "$(dirname "$0")/run_commands.sh"
if [ -n "${DEMO:-}" ]; then  # rl-lth demo's budget (rl_lth/demo.py), fewer levels and seeds
    GAMES=CartPole-v0 LEVELS=3 SEEDS="0 1" FINETUNE=5ep
    EXTRA_ARGS="$DEMO_ARGS $EXTRA_ARGS"
fi
for game in $GAMES; do
    name=$(echo "$game" | tr '[:upper:]' '[:lower:]')
    common="--env $game --levels $LEVELS --seeds $SEEDS --rewind 1epoch --no-progress $EXTRA_ARGS"
    add_command "$RL_LTH run $common --out $OUT/${name}_kinds --pruning large_final --tickets $KINDS --finetune-budget $FINETUNE"
    for criterion in $CRITERIA; do
        add_command "$RL_LTH run $common --out $OUT/${name}_$criterion --pruning $criterion --tickets winning supermask random_reinit"
    done
done
run_commands
echo "done: lth-report $OUT/<game>_*/ --out ${OUT}_report --compare"
