"""The training config: frozen dataclasses read from YAML, overridable from the command line.

Every key is documented here and in the shipped ``configs/*.yaml``. A bad file ends in one
line naming the file, the key and what is allowed (see ``holdemd.yaml_config``); every number
has a range, and ``holdemd.config_limits`` says why each limit is where it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

from holdemd.config import limits
from holdemd.durations import parse_duration
from holdemd.games.kinds import game_kind

GameName = Literal["kuhn", "leduc", "holdem", "holdem_fixed_board"]
CHIPS_PER_BB = 100  # chips are integers; a big blind is 100 of them

Menu = tuple[tuple[float, ...], ...]  # per raise depth, pot fractions


@dataclass(frozen=True)
class BetSizes:
    """Pot fractions per street and raise depth (0 = the first bet or raise on the street).

    Past the last listed depth only all-in remains (while max_raises allows a raise).
    """

    preflop: Menu = ((1.0,), (1.0,))
    flop: Menu = ((0.5, 1.0), (1.0,))
    turn: Menu = ((1.0,),)
    river: Menu = ((1.0,),)

    def __post_init__(self) -> None:
        for street in ("preflop", "flop", "turn", "river"):
            limits.check_menu(street, getattr(self, street))

    def as_tuple(self) -> tuple[Menu, Menu, Menu, Menu]:
        return (self.preflop, self.flop, self.turn, self.river)


@dataclass(frozen=True)
class MaxRaises:
    """Bets and raises allowed per street (the first bet counts); then only fold or call."""

    preflop: int = field(default=3, metadata={"min": 0, "max": limits.MAX_RAISES_PER_STREET})
    flop: int = field(default=3, metadata={"min": 0, "max": limits.MAX_RAISES_PER_STREET})
    turn: int = field(default=2, metadata={"min": 0, "max": limits.MAX_RAISES_PER_STREET})
    river: int = field(default=2, metadata={"min": 0, "max": limits.MAX_RAISES_PER_STREET})

    def as_tuple(self) -> tuple[int, int, int, int]:
        return (self.preflop, self.flop, self.turn, self.river)


@dataclass(frozen=True)
class GameConfig:
    name: GameName = field(metadata={"help": "which game to train"})
    # Hold'em only (ignored by kuhn and leduc, which have fixed rules):
    players: int = field(default=2, metadata={"min": 2, "max": 6, "help": "seats, 2 to 6"})
    stack_bb: float = field(
        default=100.0,
        metadata={"min": 1.0, "max": limits.MAX_STACK_BB, "help": "starting stack in big blinds"},
    )
    small_blind_bb: float = field(default=0.5, metadata={"min": 0.0, "max": 1.0})
    ante_bb: float = field(
        default=0.0, metadata={"min": 0.0, "max": limits.MAX_ANTE_BB, "help": "ante per player"}
    )
    bet_sizes: BetSizes = BetSizes()
    max_raises: MaxRaises = MaxRaises()
    # holdem_fixed_board only: the known board and the cards hole cards are dealt from.
    board: str | None = field(default=None, metadata={"help": "five cards, e.g. 'AhKd7c2s2d'"})
    deck: str | None = field(default=None, metadata={"help": "hole-card deck, e.g. 'AsKsQsJs'"})

    def __post_init__(self) -> None:
        kind = game_kind(self.name)
        if kind.fixed_rules and self.players != 2:
            raise ValueError(f"{self.name} is a two-player game; remove 'players'")
        if kind.fixed_board and (self.board is None or self.deck is None):
            raise ValueError("holdem_fixed_board needs 'board' (5 cards) and 'deck'")
        # In chips, as the game is built: 1.004 bb rounds to the big blind itself.
        stack, ante = round(self.stack_bb * CHIPS_PER_BB), round(self.ante_bb * CHIPS_PER_BB)
        if kind.holdem and stack <= CHIPS_PER_BB + ante:
            raise ValueError(
                f"stack_bb {self.stack_bb:g} must be more than the big blind plus the ante "
                f"({1 + self.ante_bb:g} bb): nobody could bet"
            )


@dataclass(frozen=True)
class AbstractionConfig:
    buckets: str = field(
        default="quick",
        metadata={"help": "card buckets for holdem: a preset (quick, mid) or a .npz file"},
    )


@dataclass(frozen=True)
class SolverConfig:
    algorithm: Literal["external_sampling"] = "external_sampling"
    seed: int = field(
        default=1,
        metadata={"min": 0, "max": limits.MAX_SEED, "help": "random seed; same seed, same run"},
    )
    linear_weighting: bool = field(
        default=False, metadata={"help": "weight iteration t's updates by t (linear CFR)"}
    )
    table_dtype: Literal["float32", "float64"] = field(
        default="float32", metadata={"help": "regret and strategy-sum tables"}
    )
    regret_dtype: Literal["float32", "float64", "int32"] | None = field(
        default=None,
        metadata={
            "help": "regrets only, if not table_dtype: int32 (Pluribus) counts 1/65536 of the "
            "utility scale and saturates at +-32768 x it; null = table_dtype"
        },
    )
    tables: Literal["auto", "dense", "lazy"] = field(
        default="auto",
        metadata={
            "help": "dense: every (node, bucket) row from the start (fastest for small games); "
            "lazy: a node's rows allocated when training first reaches it, compact; "
            "auto: lazy when the dense tables would exceed 2 GiB"
        },
    )


@dataclass(frozen=True)
class TrainingConfig:
    iterations: int = field(
        default=100_000,
        metadata={
            "min": 0,
            "max": limits.MAX_ITERATIONS,
            "help": "stop after this many iterations; 0 = no limit",
        },
    )
    time_budget: float | str | None = field(
        default=None, metadata={"help": "stop after this long, e.g. 600, 30m, 8h; null = no limit"}
    )
    snapshot_interval: float | str = field(
        default="10m", metadata={"help": "time between snapshots, e.g. 60, 10m"}
    )
    keep_snapshots: int = field(
        default=5,
        metadata={
            "min": 1,
            "max": limits.MAX_KEEP_SNAPSHOTS,
            "help": "newest snapshots kept; older ones are removed",
        },
    )
    keep_every: int = field(
        default=0,
        metadata={
            "min": 0,
            "max": limits.MAX_KEEP_EVERY,
            "help": "also keep every Nth snapshot forever; 0 = none",
        },
    )
    eval_interval: int = field(
        default=0,
        metadata={
            "min": 0,
            "max": limits.MAX_ITERATIONS,
            "help": "iterations between exact evaluations (small games); 0 = at the end",
        },
    )
    quality_interval: float | str | None = field(
        default=None,
        metadata={
            "help": "time between short head-to-head evaluations (vs random and call) logged to "
            "TensorBoard, for a quality curve; null = none"
        },
    )
    quality_deals: int = field(
        default=20_000,
        metadata={
            "min": 2,
            "max": limits.MAX_EVAL_DEALS,
            "help": "duplicate deals per quality evaluation",
        },
    )
    quality_lbr_deals: int = field(
        default=0,
        metadata={
            "min": 0,
            "max": limits.MAX_EVAL_DEALS,
            "help": "also LBR with this many deals (heads-up Hold'em); 0 = no",
        },
    )
    quality_rgbr_boards: int = field(
        default=0,
        metadata={
            "min": 0,
            "max": limits.MAX_QUALITY_RGBR_BOARDS,
            "help": "also the real-game best response on this many sampled boards (heads-up "
            "Hold'em; the same boards every time); 0 = no",
        },
    )
    quality_rgbr_from: Literal["flop", "turn", "river"] = field(
        default="turn",
        metadata={
            "help": "the street of those boards: flop (every turn and river enumerated: minutes "
            "per board), turn or river (cheaper; the responder follows the blueprint before)"
        },
    )
    progress_interval: float = field(
        default=2.0,
        metadata={
            "min": 0.1,
            "max": limits.MAX_PROGRESS_INTERVAL,
            "help": "seconds between progress lines",
        },
    )
    num_workers: int = field(
        default=0, metadata={"min": 0, "max": 512, "help": "worker processes; 0 = one per core"}
    )
    batch_size: int = field(
        default=2_000,
        metadata={
            "min": 1,
            "max": limits.MAX_BATCH_SIZE,
            "help": "iterations per worker batch (the merge period)",
        },
    )
    tensorboard: bool = field(default=True, metadata={"help": "write TensorBoard scalars"})
    litmus: bool | None = field(
        default=None,
        metadata={
            "help": "strategy sanity checks (litmus scenarios) at every snapshot, to "
            "TensorBoard litmus/*, status.json and the log; null = on for holdem, or when "
            "litmus_scenarios is set"
        },
    )
    litmus_scenarios: str | None = field(
        default=None,
        metadata={
            "help": "a litmus scenarios file (YAML) added to the shipped ones, or replacing "
            "them if it says replace_default: true; null = the shipped ones"
        },
    )
    deterministic: bool = field(
        default=False,
        metadata={
            "help": "several workers: batches in rounds, merged in worker order, so a run "
            "with a seed and an iteration target is repeatable (one worker always is)"
        },
    )

    def __post_init__(self) -> None:
        # Parse now so a bad duration is reported against the config file, not mid-run.
        for name in ("time_budget", "snapshot_interval", "quality_interval"):
            if getattr(self, name) is not None:
                limits.check_duration(name, getattr(self, name))
        if self.iterations == 0 and self.time_budget is None:
            raise ValueError("iterations is 0 and time_budget is null: set at least one limit")

    # Parsed once (the main loop asks ten times a second); a frozen dataclass still has a
    # __dict__ for cached_property to keep the value in.
    @cached_property
    def time_budget_seconds(self) -> float | None:
        return None if self.time_budget is None else parse_duration(self.time_budget)

    @cached_property
    def snapshot_interval_seconds(self) -> float:
        return parse_duration(self.snapshot_interval)


@dataclass(frozen=True)
class ScheduleConfig:
    """Pluribus's schedule (REFERENCE.md). Points are durations of training time (600, 10m,
    2h) or iteration counts (5000000it). Thresholds are multiples of the game's utility scale
    (its largest absolute payoff), so they fire in every game; Pluribus's chip values would
    never fire in ours."""

    discount_interval: float | str | None = field(
        default=None,
        metadata={"help": "linear-CFR discount every this long (Pluribus: 10m); null = never"},
    )
    discount_stop: float | str | None = field(
        default=None,
        metadata={"help": "no discounts after this point (Pluribus: 400m); same unit as interval"},
    )
    prune_start: float | str | None = field(
        default=None,
        metadata={"help": "negative-regret pruning from this point (Pluribus: 200m); null = never"},
    )
    prune_probability: float = field(
        default=0.95, metadata={"min": 0.0, "max": 1.0, "help": "share of iterations that prune"}
    )
    prune_threshold: float = field(
        default=-300.0,
        metadata={
            "min": limits.MIN_REGRET_MULTIPLE,
            "max": 0.0,
            "help": "prune actions with regret below this x utility scale",
        },
    )
    regret_floor: float | None = field(
        default=None,
        metadata={
            "min": limits.MIN_REGRET_MULTIPLE,
            "max": 0.0,
            "help": "clamp regrets at this x utility scale (Pluribus: -310)",
        },
    )
    average: Literal["all", "first_round"] = field(
        default="all",
        metadata={
            "help": "all: average strategy on every street; first_round: later streets average "
            "snapshots of the current strategy (Pluribus)"
        },
    )
    average_interval: float | str = field(
        default="200m",
        metadata={"help": "first_round only: time between current-strategy snapshots"},
    )

    def __post_init__(self) -> None:
        from holdemd.solver.schedule import parse_clock

        clocks = {
            name: parse_clock(getattr(self, name))
            for name in ("discount_interval", "discount_stop", "prune_start", "average_interval")
            if getattr(self, name) is not None
        }
        for name, clock in clocks.items():
            limits.check_clock_value(name, clock.unit, clock.value)
        interval, stop = clocks.get("discount_interval"), clocks.get("discount_stop")
        if interval is not None and stop is not None and interval.unit != stop.unit:
            raise ValueError("discount_stop must use the same unit as discount_interval")
        if self.regret_floor is not None and self.prune_threshold < self.regret_floor:
            raise ValueError("prune_threshold is below regret_floor: pruning could never fire")


@dataclass(frozen=True)
class Config:
    game: GameConfig
    abstraction: AbstractionConfig = AbstractionConfig()
    solver: SolverConfig = SolverConfig()
    training: TrainingConfig = TrainingConfig()
    schedule: ScheduleConfig = ScheduleConfig()

    def __post_init__(self) -> None:
        self._check_heads_up_evaluations()
        if self.solver.regret_dtype != "int32":
            return
        from holdemd.solver.kernels.integer_regrets import INT32_LOWEST
        from holdemd.solver.tables import INT32_QUANTA_PER_SCALE

        lowest = INT32_LOWEST / INT32_QUANTA_PER_SCALE  # in utility-scale multiples
        if self.solver.linear_weighting:
            raise ValueError(
                "solver.linear_weighting multiplies regret changes by t, which would saturate "
                "int32 regrets: use schedule.discount_interval (linear CFR by discounting)"
            )
        if self.schedule.regret_floor is not None and self.schedule.regret_floor < lowest:
            raise ValueError(
                f"schedule.regret_floor {self.schedule.regret_floor:g} is below what int32 "
                f"regrets hold ({lowest:g} x the utility scale): raise it, e.g. -310"
            )

    def _check_heads_up_evaluations(self) -> None:
        # Caught when the config is read, not at the first evaluation hours into the run.
        heads_up_holdem = self.game.name in ("holdem", "holdem_fixed_board") and (
            self.game.players == 2
        )
        for key in ("quality_lbr_deals", "quality_rgbr_boards"):
            if getattr(self.training, key) > 0 and not heads_up_holdem:
                raise ValueError(
                    f"training.{key} needs heads-up Hold'em (this is {self.game.name} with "
                    f"{self.game.players} players): set it to 0"
                )
