#!/usr/bin/env bash
# The README's demo-scale CartPole study (under a minute on 2 CPU cores): one seed, 4 levels of IMP at 50%
# (down to 94% pruned), 4 epochs of 100 batches, late rewinding to epoch 1; winning and early-bird
# tickets (the dense run's masks drawn every 20 batches with threshold 0.002: 20 batches move only
# 0.1-0.3% of a mask at this learning rate, so You et al.'s 0.1 would pick the earliest possible draw);
# the dense network and level 4 analysed at k = 0, 40 batches and 1 epoch (11 points on each line, 32
# evaluation episodes with fixed seeds). It ends with the table and the report in OUT/report.
# usage: recipes/tiny/rl_stability.sh   environment: OUT (runs/tiny_rl_stability), WORKERS (2), SEEDS (0),
#   THRESHOLD (0.002), LEVELS (4), EPOCHS (4), BATCHES (100), POINTS ("0 40it 1ep"), STUDY_LEVELS ("0 4")
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../toolkit_path.sh"
out=${OUT:-runs/tiny_rl_stability}
rl-lth run --env CartPole-v0 --out "$out/run" --seeds ${SEEDS:-0} --levels "${LEVELS:-4}" --rate 0.5 \
    --epochs "${EPOCHS:-4}" --batches-per-epoch "${BATCHES:-100}" --last-episodes 50 --rewind 1ep \
    --tickets winning early_bird --early-bird-every 20it --early-bird-threshold "${THRESHOLD:-0.002}" \
    --stability-points ${POINTS:-0 40it 1ep} --stability-levels ${STUDY_LEVELS:-0 4} --workers "${WORKERS:-2}" \
    --no-progress
lth-report "$out/run" --out "$out/report"
cat "$out/report/summary.md"
