#!/usr/bin/env bash
# Stability analysis (linear mode connectivity, Frankle et al. 2020) and early-bird tickets (You et al.
# 2020) on CartPole-v0 and Acrobot-v1 at the paper's budget: 15 levels of global IMP at 20%, 3 seeds,
# late rewinding to the end of epoch 1, winning, random_reinit and early_bird tickets (masks drawn every
# epoch, threshold 0.1, window 5); the dense network and the winning masks of levels 5, 10 and 15 (67%,
# 89% and 96% pruned) analysed at k = 0, 10 and 100 batches and 1 epoch, 11 points on each line, 32
# evaluation episodes with fixed seeds. Each run folder resumes when the script is rerun.
#
#   recipes/rl/stability.sh                          # both games, one after another
#   JOBS=2 recipes/rl/stability.sh                   # both games at once (one per core)
#   GAMES=CartPole-v0 LEVELS=2 STUDY_LEVELS="0 2" SEEDS=0 EXTRA_ARGS="--epochs 2 --batches-per-epoch 50" \
#     recipes/rl/stability.sh                        # smoke test
#   (recipes/tiny/rl_stability.sh: the demo-scale CartPole study of the README, minutes on 2 cores)
#
# Then: lth-report runs/stability/*/ --out runs/stability_report
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../toolkit_path.sh"

OUT=${OUT:-runs/stability}
LEVELS=${LEVELS:-15}
STUDY_LEVELS=${STUDY_LEVELS:-0 5 10 15}
POINTS=${POINTS:-0 10it 100it 1ep}
SEEDS=${SEEDS:-0 1 2}
JOBS=${JOBS:-1}
GAMES=${GAMES-CartPole-v0 Acrobot-v1}
RL_LTH=${RL_LTH:-rl-lth}
EXTRA_ARGS=${EXTRA_ARGS:-}         # more `run` options for every run, e.g. "--eval-greedy"
source "$(dirname "$0")/run_commands.sh"
for game in $GAMES; do
    name=$(echo "$game" | tr '[:upper:]' '[:lower:]')
    add_command "$RL_LTH run --env $game --out $OUT/$name --levels $LEVELS --seeds $SEEDS --rewind 1epoch \
--tickets winning random_reinit early_bird --early-bird-every 1ep --stability-points $POINTS \
--stability-levels $STUDY_LEVELS --no-progress $EXTRA_ARGS"
done
run_commands
echo "done: lth-report $OUT/*/ --out ${OUT}_report"
