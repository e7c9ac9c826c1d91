#!/usr/bin/env bash
# IMP against pruning at initialization on classic control (Frankle, Dziugaite, Roy & Carbin, ICLR 2021):
# per game one run folder per strategy, at the same densities (20 levels of 20%, 3 seeds):
#   <game>_imp:            --pruning global_magnitude, iterative, late rewinding to epoch 1 (the paper's IMP)
#   <game>_<strategy>:     snip, grasp, synflow, magnitude_init, random: one-shot masks of W_0 at each
#                          level's density, found before any training (the dense unit still trains: it
#                          is the reference line), each trained from W_0 (--rewind 0)
# SNIP and GraSP score W_0 on PRUNING_BATCHES rollouts of the untrained policy (default: the papers' one).
# `lth-report --compare` overlays the strategies (each in its own colour, labelled by its name) and
# writes the table by strategy into summary.md.
#
#   recipes/rl/pruning_at_init.sh                                  # CartPole-v0 and Acrobot-v1
#   JOBS=2 GAMES=CartPole-v0 recipes/rl/pruning_at_init.sh
#   DEMO=1 recipes/rl/pruning_at_init.sh                           # demo scale: CartPole, 3 levels at 50%,
#                                                                  # 2 seeds, rl-lth demo's budget
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../toolkit_path.sh"

OUT=${OUT:-runs/pruning_at_init}
GAMES=${GAMES-CartPole-v0 Acrobot-v1}
LEVELS=${LEVELS:-20}
SEEDS=${SEEDS:-0 1 2}
JOBS=${JOBS:-1}
STRATEGIES=${STRATEGIES:-snip grasp synflow magnitude_init random}
PRUNING_BATCHES=${PRUNING_BATCHES:-}
RL_LTH=${RL_LTH:-rl-lth}
EXTRA_ARGS=${EXTRA_ARGS:-}
source "$(dirname "$0")/run_commands.sh"
if [ -n "${DEMO:-}" ]; then  # rl-lth demo's budget (rl_lth/demo.py), fewer levels and seeds
    GAMES=CartPole-v0 LEVELS=3 SEEDS="0 1"
    EXTRA_ARGS="$DEMO_ARGS $EXTRA_ARGS"
fi
batches=${PRUNING_BATCHES:+--pruning-batches $PRUNING_BATCHES}
for game in $GAMES; do
    name=$(echo "$game" | tr '[:upper:]' '[:lower:]')
    common="--env $game --levels $LEVELS --seeds $SEEDS --tickets winning --no-progress $EXTRA_ARGS"
    add_command "$RL_LTH run $common --out $OUT/${name}_imp --pruning global_magnitude --rewind 1epoch"
    for strategy in $STRATEGIES; do
        add_command "$RL_LTH run $common --out $OUT/${name}_$strategy --pruning $strategy --rewind 0 $batches"
    done
done
run_commands
echo "done: lth-report $OUT/<game>_*/ --out ${OUT}_report --compare"
