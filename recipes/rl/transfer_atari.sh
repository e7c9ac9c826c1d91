#!/usr/bin/env bash
# Breakout-v5 tickets on Pong-v5 and Seaquest-v5 (the policy head, 4 -> 6 and 18 actions, starts from
# each target's own initialization). All options of recipes/rl/transfer.sh apply, e.g.
#   DEVICE=cuda EXTRA_ARGS="--workers 4 --gpus-per-unit 0.25" recipes/rl/transfer_atari.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../toolkit_path.sh"
SOURCE=${SOURCE:-Breakout-v5} TARGETS=${TARGETS:-Pong-v5 Seaquest-v5} OUT=${OUT:-runs/transfer_atari} \
    exec "$(dirname "$0")/transfer.sh"
