# Sourced by the RL recipes: `add_command CMD...` queues a command that has --out DIR; `run_commands`
# runs the queue JOBS at a time, each logging to DIR.log (a failed command stops the script with its
# status). DEMO_ARGS: rl-lth demo's budget (rl_lth/demo.py), which the recipes use at DEMO=1.
DEMO_ARGS="--rate 0.5 --epochs 5 --batches-per-epoch 200 --lr 3e-4"
commands_file=$(mktemp)
trap 'rm -f "$commands_file"' EXIT

add_command() {
    echo "$*" >> "$commands_file"
}

run_commands() {
    mkdir -p "$OUT"
    xargs -P "${JOBS:-1}" -I{} sh -c 'cmd="{}"; log="$(echo "$cmd" | sed "s/.*--out \([^ ]*\).*/\1/").log"; echo "$cmd"; $cmd > "$log" 2>&1' < "$commands_file"
}
