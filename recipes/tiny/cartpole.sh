#!/usr/bin/env bash
# A CartPole-v0 lottery at test size (seconds per unit on a CPU): the tiny preset's budget (2 epochs of
# 150 batches), 2 levels halving the weights, winning vs random_reinit tickets, late rewinding to the
# end of epoch 1, 2 seeds. It ends with the table of ticket rewards (mean ± std over the seeds) and
# the report in OUT/report.
# usage: recipes/tiny/cartpole.sh
#   environment: OUT (default runs/tiny_cartpole), LEVELS (2), SEEDS ("0 1")
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../toolkit_path.sh"
out=${OUT:-runs/tiny_cartpole}
rl-lth run --env CartPole-v0 --preset tiny --out "$out/run" --levels "${LEVELS:-2}" --rate 0.5 \
    --seeds ${SEEDS:-0 1} --tickets winning random_reinit --rewind 1epoch
lth-report "$out/run" --out "$out/report"
cat "$out/report/summary.md"
