"""Benchmark `iom playtest`: random playthroughs per second, and how long an exhaustive search takes.

For each story (the shipped one and the first-week sample by default) it prints:
  (a) random playtest: engine steps (choices) a second in one process, counted in CPU time
      and wall time, and with --jobs processes; nodes entered a second too;
  (b) for scale: the plain engine loop (Game with record=False, choosing at random from
      `choices`), which is what a playtest would do without the Runner;
  (c) exhaustive search, as `iom playtest --exhaustive` runs it: whether its answer was complete
      (every node and ending reached or ruled out), how long it took, the states it explored
      and whether those were all of them.

Usage: python3 scripts/bench_playtest.py [STORY ...] [--runs N] [--jobs N] [--explore-seconds S]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from game.authoring.playtest import explore, playtest  # noqa: E402
from game.engine import Game, load_story  # noqa: E402


def plain_engine_loop(story, seconds: float = 2.0) -> float:
    """Choices a second through the public API: Game(record=False), random enabled choice."""
    rng = random.Random(7)
    steps = 0
    began = time.process_time()
    game = Game(story, seed=1, record=False)
    while time.process_time() - began < seconds:
        for _ in range(500):
            if game.ended:
                game = Game(story, seed=rng.getrandbits(32), record=False)
            enabled = [o.index for o in game.choices if o.enabled]
            game.choose(enabled[int(rng.random() * len(enabled))])
        steps += 500
    return steps / (time.process_time() - began)


def bench(root: Path, runs: int, jobs: int, explore_seconds: float) -> None:
    story = load_story(root)
    story.compile_all()
    print(
        f"== {story.title} ({root.relative_to(ROOT) if root.is_relative_to(ROOT) else root}): "
        f"{len(story.node_ids):,} nodes, {len(story.events):,} events, {len(story.variables):,} variables"
    )
    playtest(story, min(runs, 20), seed=99)  # warm up
    cpu = time.process_time()
    report = playtest(story, runs, seed=1)
    cpu = time.process_time() - cpu
    print(
        f"  (a) random playtest, 1 process: {report.steps / cpu:>10,.0f} steps/s CPU, "
        f"{report.steps_per_second:>10,.0f} steps/s wall ({report.runs:,} runs, {report.steps:,} steps, "
        f"{report.nodes_entered / cpu:,.0f} nodes entered/s CPU)"
    )
    if jobs > 1:
        parallel = playtest(story, runs * jobs, seed=1, jobs=jobs)
        print(
            f"      random playtest, {jobs} processes (as `iom playtest` plays by default): "
            f"{parallel.steps_per_second:>10,.0f} steps/s wall ({parallel.runs:,} runs)"
        )
    for strategy in ("prefer:*trust",):
        try:
            r = playtest(story, max(10, runs // 4), seed=1, strategy=strategy)
        except ValueError:
            continue
        print(f"      strategy {strategy}: {r.steps_per_second:>10,.0f} steps/s wall (weighs every choice)")
    print(f"  (b) for scale, the plain engine loop: {plain_engine_loop(story):>10,.0f} steps/s CPU")
    from game.authoring.analysis import ruled_out

    r = explore(story, max_seconds=explore_seconds, ruled_out=ruled_out(story), jobs=jobs)
    answer = "complete" if r.complete else "NOT complete"
    states = "every state explored" if r.exhausted else "states not exhausted: " + "; ".join(r.why_incomplete)
    print(
        f"  (c) exhaustive (as `iom playtest --exhaustive`): {answer} in {r.seconds:.1f} s; {r.states:,} states, "
        f"{r.transitions:,} choices tried ({states})"
    )
    print(
        f"      reached {sum(r.reached):,}/{len(r.node_ids):,} nodes and {len(r.endings_reached)}/"
        f"{len(r.all_endings)} endings, {len(r.ruled_out & {i for i, ok in enumerate(r.reached) if not ok})} "
        f"ruled out"
        + (f"; {r.probed:,} choices of random play after the search" if r.probed else "")
        + (f"; {r.played:,} playthroughs from the start" if r.played else "")
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "stories", nargs="*", type=Path, default=[ROOT / "story", ROOT / "tests" / "stories" / "first_week"]
    )
    parser.add_argument("--runs", type=int, default=1000, help="random runs per measurement (default 1000)")
    parser.add_argument(
        "--jobs", type=int, default=os.cpu_count() or 1, help="processes for the parallel run"
    )
    parser.add_argument(
        "--explore-seconds",
        type=float,
        default=120,
        help="time bound of the exhaustive search (default 120, as the command's)",
    )
    args = parser.parse_args()
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    for root in args.stories:
        bench(root.resolve(), args.runs, args.jobs, args.explore_seconds)


if __name__ == "__main__":
    main()
