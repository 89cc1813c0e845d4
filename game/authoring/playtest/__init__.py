"""Automated play: seeded random playthroughs and an exhaustive search of the state space.

Both play the engine's own `Game`, made for machines: no text kept (only the random draws
rendering it would make), choices weighed lazily for the random strategy, random outcomes
scripted for the search. So a crash found here reproduces in a player's `Game` from its seed
and choices. By concern: `strategies` (how a simulated player picks), `runs` (random
playthroughs), `search` (the exhaustive search), `report` (what they find).
"""

from .report import Crash, ExploreReport, PlaytestReport, Step
from .runs import DEFAULT_MAX_STEPS, Progress, playtest, replay, run_seed
from .search import DEFAULT_MAX_STATES, control_flow, explore
from .strategies import STRATEGY_HELP, Strategy, parse_strategy

__all__ = [
    "DEFAULT_MAX_STATES",
    "DEFAULT_MAX_STEPS",
    "STRATEGY_HELP",
    "Crash",
    "ExploreReport",
    "PlaytestReport",
    "Progress",
    "Step",
    "Strategy",
    "control_flow",
    "explore",
    "parse_strategy",
    "playtest",
    "replay",
    "run_seed",
]
