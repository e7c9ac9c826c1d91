#!/usr/bin/env bash
# The paper's classic-control experiments (Yu et al. 2020, Figure 4 and the classic-control half of
# Figure 6): CartPole-v0, Acrobot-v1 and LunarLander-v2, 20 levels of global IMP at 20%, 3 seeds,
# winning and random_reinit tickets, late rewinding to the end of epoch 1; then the ablations on every
# game: no late rewinding (--rewind 0) and one-shot pruning. Each game's budget is its preset
# (rl_lth/envs.py: CartPole 10 x 200 batches, Acrobot 10 x 300, LunarLander 25 x 1000). Each run
# folder resumes when the script is rerun; the 9 runs are independent and can run in parallel (JOBS).
#
#   recipes/rl/classic_control.sh                    # everything, one run at a time
#   JOBS=2 recipes/rl/classic_control.sh             # two runs at a time (one per core)
#   GAMES=CartPole-v0 LEVELS=2 SEEDS=0 EXTRA_ARGS="--epochs 2 --batches-per-epoch 20" \
#     recipes/rl/classic_control.sh                  # smoke test
#
# Then: lth-report runs/classic_control/*/ --out runs/classic_control_report
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../toolkit_path.sh"

OUT=${OUT:-runs/classic_control}
LEVELS=${LEVELS:-20}
SEEDS=${SEEDS:-0 1 2}
JOBS=${JOBS:-1}
GAMES=${GAMES-CartPole-v0 Acrobot-v1 LunarLander-v2}
RL_LTH=${RL_LTH:-rl-lth}
EXTRA_ARGS=${EXTRA_ARGS:-}         # more `run` options for every run, e.g. "--width 256"
source "$(dirname "$0")/run_commands.sh"
for game in $GAMES; do
    name=$(echo "$game" | tr '[:upper:]' '[:lower:]')
    common="--env $game --levels $LEVELS --seeds $SEEDS --no-progress $EXTRA_ARGS"
    add_command "$RL_LTH run $common --out $OUT/$name --tickets winning random_reinit --rewind 1epoch"
    add_command "$RL_LTH run $common --out $OUT/${name}_no_rewind --tickets winning random_reinit --rewind 0"
    add_command "$RL_LTH run $common --out $OUT/${name}_oneshot --tickets winning random_reinit --rewind 1epoch --schedule oneshot"
done
run_commands
echo "done: lth-report $OUT/*/ --out ${OUT}_report"
