"""The stability analysis's settings (``--stability-*``): which points k and levels, the grid of the
line, the two children's noise. Fields of :class:`~shared_mask.config.LotteryConfig` (its base class),
so they are recorded in config.json and offered by every lottery command."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..steps import Step, parse_step

MIN_GRID = 3  # the two ends and at least one point between them


@dataclass(kw_only=True)
class StabilitySettings:
    """Linear mode connectivity (Frankle et al. 2020): two children of W_k, trained with different noise,
    and the networks on the line between them."""

    stability_points: list[str] = field(
        default_factory=list,
        metadata={
            "help": "points k of the dense run (0, <N>it / <N>batches / <N>updates, <N>ep) whose weights W_k start "
            "two children trained to the end with different noise; the networks on the line between the two "
            "results are evaluated (none: no stability analysis)"
        },
    )
    stability_levels: list[int] = field(
        default_factory=lambda: [0],
        metadata={
            "help": "levels analysed at every point: 0 is the dense network, L > 0 the level's winning mask on W_k "
            "(the dense run's weights at k, under the mask)"
        },
    )
    stability_grid: int = field(
        default=11, metadata={"help": "evenly spaced points a in [0, 1] of the line w(a) = (1 - a) w1 + a w2"}
    )
    stability_noise: list[int] = field(
        default_factory=lambda: [1, 2],
        metadata={
            "help": "the two children's noise seeds (environment and action sampling, or batch order and dropout); "
            "equal seeds are a determinism check (identical children, instability 0)"
        },
    )

    def check_stability(self) -> None:
        self.stability_points = [str(parse_step(point)) for point in self.stability_points]
        if len(set(self.stability_points)) != len(self.stability_points):
            raise ValueError(f"stability points repeat: {' '.join(self.stability_points)}")
        self.stability_levels = [int(level) for level in self.stability_levels]
        if any(level < 0 for level in self.stability_levels) or len(set(self.stability_levels)) != len(
            self.stability_levels
        ):
            raise ValueError(f"stability levels must be distinct levels >= 0, got {self.stability_levels}")
        if isinstance(self.stability_grid, bool) or not isinstance(self.stability_grid, int):
            raise ValueError(f"the stability grid is a number of points, got {self.stability_grid!r}")
        if self.stability_grid < MIN_GRID:
            raise ValueError(
                f"the stability grid needs at least {MIN_GRID} points (the two ends and one between), "
                f"got {self.stability_grid}"
            )
        self.stability_noise = [int(seed) for seed in self.stability_noise]
        if len(self.stability_noise) != 2:
            raise ValueError(f"--stability-noise takes the two children's seeds, got {self.stability_noise}")

    @property
    def stability_steps(self) -> list[Step]:
        return [parse_step(point) for point in self.stability_points]
