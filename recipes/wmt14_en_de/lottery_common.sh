# Shared by lottery_base.sh and lottery_big.sh: runs the paper's Transformer lottery (20 levels of
# 20% global magnitude pruning, late rewinding to update 1000, winning vs random tickets) once per
# pruning scope: all weights (embeddings included) and transformer layers only.
# Expects: NAME and an array TRAIN_ARGS (the model's fairseq-train options).
# Environment: DATA (default data/wmt14_en_de/bin), RUNS (default runs), SEEDS (default "0"),
# LEVELS (20), TICKETS ("winning random_reinit"), SCOPES ("all no_embeddings"), RUN_NAME (wmt14_NAME: the
# run folders are RUNS/RUN_NAME_<scope>), IMP_ARGS (more fairseq-lth-imp options, e.g. --workers 2),
# UPDATE_FREQ (16: Ott et al.'s batch of ~460k tokens on 8 GPUs; use 128 / number of GPUs).
# fairseq-train uses every visible GPU through its own distributed training.
# Disk: every unit keeps final.pt, its trained weights (fp32: about 0.25 GB for Base, 0.84 GB for
# Big), so one seed and scope (1 dense + 20 levels x 2 tickets = 41 units) needs about 10 GB (Base)
# or 35 GB (Big). The running unit's fairseq checkpoints (weights and Adam state, the last 5 kept
# for averaging) come on top and are deleted once it is evaluated.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../toolkit_path.sh"
DATA=${DATA:-data/wmt14_en_de/bin}
RUNS=${RUNS:-runs}
for scope in ${SCOPES:-all no_embeddings}; do
    fairseq-lth-imp --data "$DATA" --out "$RUNS/${RUN_NAME:-wmt14_$NAME}_${scope}" \
        --levels "${LEVELS:-20}" --rate 0.2 --seeds ${SEEDS:-0} --tickets ${TICKETS:-winning random_reinit} \
        --rewind 1000it --scope "$scope" --average-last 5 --beam 4 --lenpen 0.6 --compound-split ${IMP_ARGS:-} \
        -- "${TRAIN_ARGS[@]}" \
        --optimizer adam --adam-betas '(0.9, 0.98)' --clip-norm 0.0 \
        --lr-scheduler inverse_sqrt --warmup-updates 4000 --warmup-init-lr 1e-07 \
        --criterion label_smoothed_cross_entropy --label-smoothing 0.1 --weight-decay 0.0 \
        --max-tokens 3584 --update-freq "${UPDATE_FREQ:-16}" --fp16 \
        --max-update 50000 --save-interval-updates 1000 --keep-interval-updates 5 --keep-last-epochs 5 \
        --disable-validation
done
