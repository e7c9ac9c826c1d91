#!/usr/bin/env bash
# Learning-rate rewinding vs weight rewinding on classic control (Renda, Frankle & Carbin 2020, on the
# paper's protocol): per game two run folders,
#   <game>_weight_chain: the chain follows the weight-rewound winning tickets (the paper's IMP);
#                        lr_rewind tickets of every level start from the same pruned trained weights
#   <game>_lr_chain:     the chain follows the lr-rewound tickets (IMP with learning-rate rewinding)
# each with random_reinit controls, 20 levels x 3 seeds, late rewinding to epoch 1. Both kinds of the
# first folder are drawn in one figure; `lth-report --compare` overlays the two chains.
#
#   recipes/rl/lr_rewinding.sh                                     # CartPole-v0 and Acrobot-v1
#   JOBS=2 GAMES=CartPole-v0 recipes/rl/lr_rewinding.sh
#   DEMO=1 recipes/rl/lr_rewinding.sh                              # demo scale: CartPole, 4 levels at 50%,
#                                                                  # rl-lth demo's budget (minutes on 2 cores)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../toolkit_path.sh"

OUT=${OUT:-runs/lr_rewinding}
GAMES=${GAMES-CartPole-v0 Acrobot-v1}
LEVELS=${LEVELS:-20}
SEEDS=${SEEDS:-0 1 2}
JOBS=${JOBS:-1}
RL_LTH=${RL_LTH:-rl-lth}
EXTRA_ARGS=${EXTRA_ARGS:-}
source "$(dirname "$0")/run_commands.sh"
if [ -n "${DEMO:-}" ]; then  # rl-lth demo's settings (rl_lth/demo.py)
    GAMES=CartPole-v0 LEVELS=4
    EXTRA_ARGS="$DEMO_ARGS --workers 2 $EXTRA_ARGS"
fi
for game in $GAMES; do
    name=$(echo "$game" | tr '[:upper:]' '[:lower:]')
    common="--env $game --levels $LEVELS --seeds $SEEDS --rewind 1epoch --no-progress $EXTRA_ARGS"
    add_command "$RL_LTH run $common --out $OUT/${name}_weight_chain --tickets winning lr_rewind random_reinit"
    add_command "$RL_LTH run $common --out $OUT/${name}_lr_chain --tickets lr_rewind random_reinit --chain lr_rewind"
done
run_commands
echo "done: lth-report $OUT/*/ --out ${OUT}_report --compare"
