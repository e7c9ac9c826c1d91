#!/usr/bin/env bash
# IMP against pruning at initialization for the paper's LSTM on Wikitext-2 (after prepare.sh): the
# IMP run of lottery_lstm.sh (main) and one run folder per strategy, RUNS/wikitext2_lstm_<strategy>:
# one-shot masks of W_0 at the 20 levels' densities, found before training, trained from W_0.
# Then: lth-report RUNS/wikitext2_lstm RUNS/wikitext2_lstm_{snip,grasp,synflow,magnitude_init,random} --compare --out report/
# usage: recipes/wikitext2/pruning_at_init.sh   (environment: as lottery_lstm.sh, and STRATEGIES)
set -euo pipefail
runs="main"
for strategy in ${STRATEGIES:-snip grasp synflow magnitude_init random}; do runs="$runs at_init_$strategy"; done
RUNS_TO_DO="$runs" exec "$(dirname "$0")/lottery_lstm.sh"
