#!/usr/bin/env bash
# The paper's Atari experiments (Yu et al. 2020, Figures 5 and 7): nine games x 3 seeds x 20 levels,
# winning and random_reinit tickets, late rewinding to 1 epoch; then the ablations on Assault, Breakout
# and Seaquest (no late rewinding; one-shot pruning). Each run folder resumes when the script is rerun.
#
#   recipes/rl/atari.sh                          # CPU (slow: the paper budget is 25,000 updates per ticket)
#   DEVICE=cuda JOBS=3 recipes/rl/atari.sh       # GPU, three games at a time
#   PRESET=tiny LEVELS=1 SEEDS=0 GAMES=Breakout-v5 ABLATION_GAMES=Breakout-v5 \
#     EXTRA_ARGS="--epochs 2 --batches-per-epoch 30 --num-envs 4 --batch-size 2" recipes/rl/atari.sh  # smoke test
#
# Then: lth-report runs/atari/* --out runs/atari_report
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../toolkit_path.sh"

OUT=${OUT:-runs/atari}
DEVICE=${DEVICE:-cpu}
PRESET=${PRESET:-paper}            # paper | tiny: the settings and budget (see rl-lth run --help)
LEVELS=${LEVELS:-20}
SEEDS=${SEEDS:-0 1 2}
JOBS=${JOBS:-1}                    # games run in parallel (each game's seeds run in order)
GAMES=${GAMES-Assault-v5 Berzerk-v5 Breakout-v5 Centipede-v5 Kangaroo-v5 Krull-v5 Qbert-v5 Seaquest-v5 SpaceInvaders-v5}
ABLATION_GAMES=${ABLATION_GAMES-Assault-v5 Breakout-v5 Seaquest-v5}
PYTHON=${PYTHON:-python}
EXTRA_ARGS=${EXTRA_ARGS:-}         # more `run` options for every run, e.g. "--epochs 10 --num-envs 256"
# On a CPU, one torch thread beside envpool's is fastest; on a GPU the count hardly matters.
THREADS=${THREADS:-1}
REWIND=${REWIND:-1epoch}
if [ "$PRESET" = tiny ]; then REWIND=${TINY_REWIND:-10batches}; fi

run() {  # run GAME NAME [extra options]
    local game=$1 name=$2
    shift 2
    # `python -m rl_lth.atari run` is `rl-lth run` (Atari ids pick the ELF trainer) under $PYTHON.
    $PYTHON -m rl_lth.atari run --env "$game" --out "$OUT/$name" --preset "$PRESET" --device "$DEVICE" \
        --threads "$THREADS" --levels "$LEVELS" --seeds $SEEDS --tickets winning random_reinit $EXTRA_ARGS "$@"
}
export -f run
export OUT DEVICE PRESET LEVELS SEEDS THREADS PYTHON EXTRA_ARGS

jobs=()
for game in $GAMES; do
    jobs+=("run $game ${game%-v5} --rewind $REWIND --schedule iterative")
done
for game in $ABLATION_GAMES; do
    jobs+=("run $game ${game%-v5}_no_rewind --rewind 0 --schedule iterative")
    jobs+=("run $game ${game%-v5}_oneshot --rewind $REWIND --schedule oneshot")
done
printf '%s\n' "${jobs[@]}" | xargs -P "$JOBS" -I{} bash -c '{}'
echo "run folders in $OUT; draw the figures with: lth-report $OUT/* --out ${OUT}_report"
