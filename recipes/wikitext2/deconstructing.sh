#!/usr/bin/env bash
# The deconstructing controls, fine-tuning and open_lth's random masks for the paper's LSTM on
# Wikitext-2 (after prepare.sh): RUNS/wikitext2_lstm_deconstructing (every ticket kind under IMP's
# masks; finetune trains FINETUNE, default 10ep, at the schedule's final learning rate) and one run per
# other mask criterion, RUNS/wikitext2_lstm_<criterion> (winning, supermask and random_reinit tickets).
# usage: recipes/wikitext2/deconstructing.sh   (environment: as lottery_lstm.sh, and CRITERIA, FINETUNE)
set -euo pipefail
runs="deconstructing"
for criterion in ${CRITERIA:-small_final large_init large_init_large_final magnitude_increase movement}; do
    runs="$runs criterion_$criterion"
done
RUNS_TO_DO="$runs" exec "$(dirname "$0")/lottery_lstm.sh"
