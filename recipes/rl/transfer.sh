#!/usr/bin/env bash
# Ticket transfer between games (Morcos et al. 2019, "One ticket to win them all", on the paper's
# games): every level of a source game's seed-0 chain is trained on each target game, with random
# controls of the same per-tensor counts, beside the target's own winning and random tickets.
# Tensors whose shapes differ (the input layer for another observation size, the policy head for
# another action count) start from the target's own initialization, dense; transfer.json and
# lth-report name them.
#
#   recipes/rl/transfer.sh                      # classic control: CartPole-v0 tickets on Acrobot-v1
#   SOURCE=Breakout-v5 TARGETS="Pong-v5 Seaquest-v5" DEVICE=cuda recipes/rl/transfer.sh   # Atari
#   DEMO=1 recipes/rl/transfer.sh               # demo scale: CartPole -> Acrobot, 4 levels (minutes)
#
# The source run is trained first (or resumed) into OUT/<source>; each target into OUT/<target>.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../toolkit_path.sh"

OUT=${OUT:-runs/transfer}
SOURCE=${SOURCE:-CartPole-v0}
TARGETS=${TARGETS:-Acrobot-v1}
LEVELS=${LEVELS:-20}
SEEDS=${SEEDS:-0 1 2}
DEVICE=${DEVICE:-cpu}
RL_LTH=${RL_LTH:-rl-lth}
EXTRA_ARGS=${EXTRA_ARGS:-}                       # options for every run, e.g. "--workers 8"
SOURCE_ARGS=${SOURCE_ARGS:-}
TARGET_ARGS=${TARGET_ARGS:-}
if [ -n "${DEMO:-}" ]; then
    LEVELS=4 SEEDS="0 1"
    EXTRA_ARGS="--rate 0.5 --lr 3e-4 --workers 2 $EXTRA_ARGS"
    SOURCE_ARGS="--epochs 5 --batches-per-epoch 200" TARGET_ARGS="--epochs 5 --batches-per-epoch 300"
fi
device=()
case "$SOURCE" in *-v5) device=(--device "$DEVICE");; esac

$RL_LTH run --env "$SOURCE" --out "$OUT/$SOURCE" --levels "$LEVELS" --seeds $SEEDS --rewind 1epoch \
    --tickets winning random_reinit "${device[@]}" --no-progress $EXTRA_ARGS $SOURCE_ARGS
for target in $TARGETS; do
    $RL_LTH run --env "$target" --out "$OUT/$target" --levels "$LEVELS" --seeds $SEEDS --rewind 1epoch \
        --tickets winning random_reinit --transfer-from "$OUT/$SOURCE/seed_0" "${device[@]}" --no-progress \
        $EXTRA_ARGS $TARGET_ARGS
done
echo "done: lth-report $OUT/*/ --out ${OUT}_report"
