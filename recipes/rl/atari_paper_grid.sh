#!/usr/bin/env bash
# The paper's Atari grid (Yu et al. 2020, Figure 5) on a Ray cluster: nine games x 3 seeds x 20 levels,
# winning and random_reinit tickets, late rewinding to 1 epoch: 1,107 trainings, scheduled as one
# graph over every worker of the cluster (rl-lth sweep). Rerunning the script resumes it.
#
#   ray start --head                                 # on the head node (see README, "Scaling out")
#   ray start --address HEAD:6379                    # on every other node
#   RAY_ADDRESS=auto recipes/rl/atari_paper_grid.sh  # from a node of the cluster
#   WORKERS=8 recipes/rl/atari_paper_grid.sh         # or: a local cluster on this machine, 8 units at once
#
# OUT must be on a file system every node mounts (the command checks it at start).
# Smoke test (seconds of work per unit, on a laptop):
#   WORKERS=2 PRESET=tiny LEVELS=1 SEEDS=0 GAMES="Breakout-v5 Assault-v5" \
#     EXTRA_ARGS="--epochs 1 --batches-per-epoch 300 --last-episodes 1 --rewind 5batches" recipes/rl/atari_paper_grid.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../toolkit_path.sh"

OUT=${OUT:-runs/atari}
RAY_ADDRESS=${RAY_ADDRESS:-}
WORKERS=${WORKERS:-0}
DEVICE=${DEVICE:-cuda}
GPUS_PER_UNIT=${GPUS_PER_UNIT:-0.25}   # four units share a GPU (the paper's network is small)
CPUS_PER_UNIT=${CPUS_PER_UNIT:-4}      # envpool threads and the trainer of one unit
PRESET=${PRESET:-paper}
LEVELS=${LEVELS:-20}
SEEDS=${SEEDS:-0 1 2}
GAMES=${GAMES-Assault-v5 Berzerk-v5 Breakout-v5 Centipede-v5 Kangaroo-v5 Krull-v5 Qbert-v5 Seaquest-v5 SpaceInvaders-v5}
EXTRA_ARGS=${EXTRA_ARGS:-}
if [ "$DEVICE" = cpu ]; then GPUS_PER_UNIT=0; fi

if [ -n "$RAY_ADDRESS" ]; then
    where=(--ray-address "$RAY_ADDRESS")
elif [ "$WORKERS" -gt 0 ]; then
    where=(--workers "$WORKERS")
else
    echo "set RAY_ADDRESS (a running cluster, e.g. auto) or WORKERS (a local cluster of that many units)" >&2
    exit 2
fi

rl-lth sweep --envs $GAMES --out "$OUT" "${where[@]}" --cpus-per-unit "$CPUS_PER_UNIT" \
    --gpus-per-unit "$GPUS_PER_UNIT" --device "$DEVICE" --preset "$PRESET" --levels "$LEVELS" --seeds $SEEDS \
    --tickets winning random_reinit --rewind 1epoch --no-progress $EXTRA_ARGS
echo "run folders in $OUT; draw the grid with: lth-report $OUT/* --out ${OUT}_report"
