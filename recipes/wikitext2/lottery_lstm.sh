#!/usr/bin/env bash
# Figure 1: lottery tickets of the paper's LSTM language model on Wikitext-2 (after prepare.sh).
# Three run folders, each 20 levels of 20% global magnitude pruning (every parameter, biases and
# embeddings included) over 3 seeds, each ticket trained to the end of epoch 10 and scored by test
# log perplexity (nats):
#   RUNS/wikitext2_lstm            late rewinding to the end of epoch 1; winning vs random tickets
#   RUNS/wikitext2_lstm_rewind0    ablation: no late rewinding (reset to the initial weights)
#   RUNS/wikitext2_lstm_oneshot    ablation: one-shot pruning of the dense network to each level's density
# and, with RUNS_TO_DO="lr_rewinding lr_chain", the learning-rate rewinding ablation (beyond the paper):
#   RUNS/wikitext2_lstm_lr_rewinding  winning, lr_rewind and random_reinit tickets on the winning chain
#   RUNS/wikitext2_lstm_lr_chain      the chain follows the lr-rewound tickets
# and, with RUNS_TO_DO=early_bird, early-bird tickets (You et al. 2020) beside winning and random_reinit:
#   RUNS/wikitext2_lstm_early_bird    the dense run's masks drawn every EARLY_BIRD_EVERY updates
#                                     (default 1400it, about one epoch of Wikitext-2 at batch 30 x 50 tokens)
# and, with RUNS_TO_DO=stability, the stability analysis (Frankle et al. 2020) of the dense network and
# the winning masks of levels 5, 10 and 15 at k = 0, 1 and 2 epochs (validation log perplexity on the line):
#   RUNS/wikitext2_lstm_stability
# Then: lth-report RUNS/wikitext2_lstm RUNS/wikitext2_lstm_rewind0 RUNS/wikitext2_lstm_oneshot --compare --out report/
# usage: recipes/wikitext2/lottery_lstm.sh
#   environment: DATA (default data/wikitext2/bin), RUNS (runs), SEEDS ("0 1 2"), LEVELS (20),
#   TICKETS ("winning random_reinit"), ABLATION_TICKETS (the same), RUNS_TO_DO ("main rewind0 oneshot"),
#   DEVICE (cuda; cpu trains on the CPU), EXTRA_ARGS (more fairseq-train options, e.g. "--fp16").
# Rerunning resumes every run folder where it stopped.
# Disk: every unit keeps final.pt, its trained weights (about 0.2 GB: 50M parameters in fp32 with
# the 33k-word vocabulary): 3 seeds x (1 dense + 20 levels x 2 tickets) = 123 units, about 25 GB
# per run folder and 74 GB for all three. The running unit's fairseq checkpoints come on top and
# are deleted once it is evaluated.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../toolkit_path.sh"
DATA=${DATA:-data/wikitext2/bin}
RUNS=${RUNS:-runs}
TICKETS=${TICKETS:-winning random_reinit}
DECONSTRUCTING_TICKETS=${DECONSTRUCTING_TICKETS:-winning random_reinit random_mask random_mask_global random_mask_even reshuffle sign_constant sign_random supermask finetune lr_rewind}
cpu=()
if [ "${DEVICE:-cuda}" = cpu ]; then
    cpu=(--cpu)
fi
# The paper's model and recipe: 2-layer LSTM, 650 units, dropout 0.5, truncated BPTT of 50 tokens,
# batch 30 (--required-batch-size-multiple 1, or fairseq rounds 30 down to 24), Adam lr 1e-3,
# betas (0.9, 0.999), eps 1e-3, 10 epochs; validation loss every epoch (tensorboard).
train_args=(--arch lottery_lstm_wikitext2 --tokens-per-sample 50 --sample-break-mode none
    --batch-size 30 --required-batch-size-multiple 1 --criterion cross_entropy
    --optimizer adam --adam-betas '(0.9, 0.999)' --adam-eps 1e-3 --lr 1e-3 --lr-scheduler fixed
    --max-epoch 10 --save-interval 1 --no-epoch-checkpoints --log-interval 100 "${cpu[@]}" ${EXTRA_ARGS:-})

study=()  # more driver options of one run (the early-bird draws)
lottery() {  # NAME REWIND SCHEDULE CHAIN TICKETS...
    local name=$1 rewind=$2 schedule=$3 chain=$4
    shift 4
    fairseq-lth-imp --task lottery_language_modeling --data "$DATA" --out "$RUNS/$name" \
        --levels "${LEVELS:-20}" --rate 0.2 --seeds ${SEEDS:-0 1 2} --tickets "$@" --chain "$chain" --scope all \
        --rewind "$rewind" --schedule "$schedule" --average-last 1 "${study[@]}" "${cpu[@]}" -- "${train_args[@]}"
}
for run in ${RUNS_TO_DO:-main rewind0 oneshot}; do
    case $run in
        main) lottery wikitext2_lstm 1ep iterative winning $TICKETS ;;
        rewind0) lottery wikitext2_lstm_rewind0 0 iterative winning ${ABLATION_TICKETS:-$TICKETS} ;;
        oneshot) lottery wikitext2_lstm_oneshot 1ep oneshot winning ${ABLATION_TICKETS:-$TICKETS} ;;
        # Learning-rate rewinding (beyond the paper): lr_rewind beside winning on the weight-rewinding
        # chain, and a chain that follows the lr-rewound tickets; compare with lth-report --compare.
        lr_rewinding) lottery wikitext2_lstm_lr_rewinding 1ep iterative winning winning lr_rewind random_reinit ;;
        lr_chain) lottery wikitext2_lstm_lr_chain 1ep iterative lr_rewind lr_rewind random_reinit ;;
        # Beyond the paper (recipes/wikitext2/deconstructing.sh, pruning_at_init.sh): every ticket kind
        # under IMP's masks, the other mask criteria, and pruning at initialization from W_0.
        deconstructing) lottery wikitext2_lstm_deconstructing 1ep iterative winning $DECONSTRUCTING_TICKETS \
            --finetune-budget "${FINETUNE:-10ep}" ;;
        criterion_*) lottery "wikitext2_lstm_${run#criterion_}" 1ep iterative winning winning supermask random_reinit \
            --pruning "${run#criterion_}" ;;
        at_init_*) lottery "wikitext2_lstm_${run#at_init_}" 0 oneshot winning winning --pruning "${run#at_init_}" ;;
        early_bird)
            study=(--early-bird-every "${EARLY_BIRD_EVERY:-1400it}")
            lottery wikitext2_lstm_early_bird 1ep iterative winning winning random_reinit early_bird
            study=() ;;
        stability)
            study=(--stability-points 0 1ep 2ep --stability-levels 0 5 10 15)
            lottery wikitext2_lstm_stability 1ep iterative winning winning random_reinit
            study=() ;;
        *) echo "unknown run '$run' in RUNS_TO_DO (main, rewind0, oneshot, lr_rewinding, lr_chain, early_bird," \
                "stability, deconstructing, criterion_<name>, at_init_<name>)" >&2
           exit 1 ;;
    esac
done
