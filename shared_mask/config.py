"""``LotteryConfig``: how a lottery finds its tickets (levels, rate, seeds, tickets, schedule, rewind point,
scope, strategy), checked when it is made."""

from __future__ import annotations

from dataclasses import dataclass, field

from .early_bird import EarlyBirdSettings
from .pruning import PRUNING
from .scope import SCOPES
from .stability.settings import StabilitySettings
from .steps import parse_step
from .tickets import TICKETS, WINNING

SCHEDULES = ("iterative", "oneshot")
PRUNE_FROM = ("init", "rewind")
KEEP_WEIGHTS = ("all", "needed")
# Fields that a rerun may extend (more seeds, levels or tickets) without starting a new run, and
# fields that change nothing in the results, so a rerun may set them otherwise.
EXTENSIBLE = ("seeds", "levels", "tickets", "stability_points", "stability_levels")
FREE = ("keep_weights",)
# Fields that a rerun may set where the run had none (a transfer, a fine-tuning budget for a finetune
# ticket added later); the masks of the run's levels never depend on them.
SET_ONCE = ("transfer_from", "finetune_budget")


@dataclass
class LotteryConfig(StabilitySettings, EarlyBirdSettings):
    """How tickets are found: ``levels`` pruning rounds of ``rate``, rewinding to ``rewind``; the studies of
    the tickets (stability analysis, early-bird tickets) in the settings of the base classes."""

    levels: int = field(default=20, metadata={"help": "pruning levels after the dense level 0"})
    rate: float = field(default=0.2, metadata={"help": "fraction of the surviving weights pruned at each level"})
    seeds: list[int] = field(default_factory=lambda: [0, 1, 2], metadata={"help": "one pruning chain per seed"})
    tickets: list[str] = field(
        default_factory=lambda: ["winning", "random_reinit"],
        metadata={"help": "ticket kinds trained at every pruned level", "choices": TICKETS},
    )
    schedule: str = field(
        default="iterative",
        metadata={
            "help": "iterative: prune the previous level's --chain ticket; oneshot: prune the dense network "
            "straight to each level's density",
            "choices": SCHEDULES,
        },
    )
    chain: str = field(
        default=WINNING,
        metadata={
            "help": "the ticket kind whose trained weights the iterative schedule prunes for the next level: "
            "winning (weight rewinding, the paper's) or lr_rewind (learning-rate rewinding)",
            "choices": TICKETS,
        },
    )
    rewind: str = field(
        default="0",
        metadata={
            "help": "late-rewinding point of the dense run that tickets restart from: 0 (the initialization), "
            "<N>it / <N>batches / <N>updates, or <N>ep"
        },
    )
    scope: str = field(
        default="all",
        metadata={
            "help": "prunable parameters: all (biases, norms and embeddings included), weights (tensors of 2+ "
            "dimensions), no_embeddings (embedding tables and output projections stay dense)",
            "choices": SCOPES,
        },
    )
    include: list[str] | None = field(
        default=None,
        metadata={"help": "regexes: prune only the parameters whose names match one of them (within the scope)"},
    )
    exclude: list[str] | None = field(
        default=None, metadata={"help": "regexes: leave the parameters whose names match one of them dense"}
    )
    pruning: str = field(
        default="global_magnitude",
        metadata={"help": "how a level's mask is chosen from trained weights", "choices": PRUNING},
    )
    pruning_batches: int | None = field(
        default=None,
        metadata={"help": "training batches that snip and grasp score weights on (default: the papers' one)"},
    )
    prune_from: str = field(
        default="init",
        metadata={
            "help": "the weights that pruning-at-initialization strategies (snip, grasp, synflow, magnitude_init, "
            "random) prune: init (W_0) or rewind (the rewind point's weights)",
            "choices": PRUNE_FROM,
        },
    )
    finetune_budget: str | None = field(
        default=None,
        metadata={
            "help": "how long the finetune ticket trains at the schedule's final learning rate: <N>it / <N>batches "
            "/ <N>updates, or <N>ep (needed by --tickets finetune)"
        },
    )
    keep_weights: str = field(
        default="all",
        metadata={
            "help": "all: every unit keeps its trained weights (final.*); needed: only what later levels and "
            "ticket export read (the dense and --chain units'), other tickets' weights are deleted once "
            "scored, which halves the disk of a two-ticket lottery",
            "choices": KEEP_WEIGHTS,
        },
    )
    transfer_from: str | None = field(
        default=None,
        metadata={
            "help": "another run's RUN/seed_<s>/level_<kk> (one ticket) or RUN/seed_<s> (its whole chain): its "
            "masks and rewind weights are also trained on this run's experiment (transfer, with "
            "transfer_random_reinit and transfer_random_mask controls); tensors whose shapes differ start "
            "from this run's initialization, dense"
        },
    )

    def __post_init__(self):
        if not isinstance(self.levels, int) or self.levels < 0:
            raise ValueError(f"levels must be a non-negative integer, got {self.levels!r}")
        if not isinstance(self.rate, (int, float)) or not 0 < self.rate < 1:
            raise ValueError(f"pruning rate must be in (0, 1), got {self.rate!r}")
        self.seeds = [int(s) for s in self.seeds]
        if not self.seeds or len(set(self.seeds)) != len(self.seeds):
            raise ValueError(f"seeds must be a non-empty list without repeats, got {self.seeds!r}")
        self.tickets = list(self.tickets)
        unknown = [t for t in self.tickets if t not in TICKETS]
        if unknown or not self.tickets or len(set(self.tickets)) != len(self.tickets):
            raise ValueError(f"tickets must be distinct names from {', '.join(TICKETS)}; got {self.tickets!r}")
        transferred = [t for t in self.tickets if TICKETS[t].transferred]
        if transferred:
            raise ValueError(
                f"{', '.join(transferred)}: transferred tickets are trained by --transfer-from, not listed in tickets"
            )
        if self.schedule not in SCHEDULES:
            raise ValueError(f"unknown schedule {self.schedule!r}; choose one of {', '.join(SCHEDULES)}")
        chain = TICKETS[self.chain]
        if chain.control or chain.transferred:
            raise ValueError(f"the chain follows a candidate ticket (winning, lr_rewind, ...), not {self.chain}")
        if self.schedule == "oneshot" and self.chain != WINNING:
            raise ValueError(f"--chain {self.chain} has no effect with the oneshot schedule: leave it out")
        if self.schedule == "iterative" and self.chain not in self.tickets:
            raise ValueError(
                f"the iterative schedule prunes the {self.chain} ticket of each level: "
                f"include '{self.chain}' in tickets"
            )
        self.rewind = str(parse_step(self.rewind))
        if self.scope not in SCOPES:
            raise ValueError(f"unknown pruning scope {self.scope!r}; choose one of {', '.join(SCOPES)}")
        PRUNING[self.pruning]  # an unknown strategy is a ValueError naming the known ones
        if self.pruning_batches is not None and (isinstance(self.pruning_batches, bool) or self.pruning_batches < 1):
            raise ValueError(f"pruning batches must be at least 1, got {self.pruning_batches!r}")
        if self.prune_from not in PRUNE_FROM:
            raise ValueError(f"prune_from must be one of {', '.join(PRUNE_FROM)}, got {self.prune_from!r}")
        fine_tuned = [t for t in self.tickets if TICKETS[t].fine_tunes]
        if fine_tuned and self.finetune_budget is None:
            raise ValueError(f"the {fine_tuned[0]} ticket trains for --finetune-budget: give one (e.g. 1000it or 2ep)")
        if self.finetune_budget is not None:
            self.finetune_budget = str(parse_step(self.finetune_budget))
        if self.keep_weights not in KEEP_WEIGHTS:
            raise ValueError(f"keep_weights must be one of {', '.join(KEEP_WEIGHTS)}, got {self.keep_weights!r}")
        self.check_stability()
        beyond = [level for level in self.stability_levels if level > self.levels]
        if beyond:
            raise ValueError(f"stability levels {beyond} are beyond the lottery's {self.levels} levels")
        self.check_early_bird()

    def density(self, level: int) -> float:
        """Target density of ``level``: (1 - rate) ** level."""
        return (1 - self.rate) ** level
