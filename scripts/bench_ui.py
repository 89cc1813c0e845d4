#!/usr/bin/env python3
"""UI benchmarks: start-up to the app's Ready event, and a choice to the next repaint.

1. Start-up: a fresh process per run, from process start to the Ready event (the first frame),
   for `iom play` with the shipped story beside a bare Textual app doing the same. Both use
   Textual's headless driver, so no terminal is needed and both pay the same output costs.
   Target: the game within 1.3x of the bare app.
2. Choice to repaint: with a 500-passage transcript, the time from taking a choice (a key press
   reaching the play screen) to the end of the screen refresh that shows it. Target: median
   at or under 16 ms.

    python3 scripts/bench_ui.py [--runs 7] [--choices 120]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BARE = r"""
import time
from textual.app import App
from textual.widgets import Footer, Static

class Bare(App):
    def compose(self):
        yield Static("Hello")
        yield Footer()

    def on_ready(self):
        print(time.monotonic(), flush=True)
        self.exit()

Bare().run()
"""

GAME = r"""
import sys, time
sys.argv = ["iom", "play", "--saves", SAVES, "--seed", "1"]
from game.ui.app import StraightApp

def on_ready(self):
    print(time.monotonic(), flush=True)
    self.exit()

StraightApp.on_ready = on_ready
from game.cli import main
main(sys.argv[1:])
"""


def _start_once(code: str, env: dict[str, str]) -> float:
    t0 = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, timeout=60
    )
    lines = [line for line in out.stdout.splitlines() if line.strip()]
    if out.returncode != 0 or not lines:
        raise SystemExit(f"the child failed:\n{out.stdout}\n{out.stderr}")
    return float(lines[-1]) - t0


def bench_start(runs: int) -> None:
    # One terminal size for both apps, as a real terminal gives: with no terminal to ask, Rich's
    # console assumes 80x25 and the headless driver 80x24, and the difference makes every app
    # lay out and draw its first screen a second time before Ready, which a player never sees.
    env = dict(
        os.environ,
        TEXTUAL_DRIVER="textual.drivers.headless_driver:HeadlessDriver",
        PYTHONPATH=str(ROOT),
        COLUMNS="80",
        LINES="24",
    )
    # Measure as players run it: with compiled bytecode cached, as Python does by default and
    # pip does on install (Textual's own modules are always compiled in site-packages).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    with tempfile.TemporaryDirectory() as tmp:
        env["IOM_CACHE_DIR"] = str(Path(tmp) / "cache")
        game = GAME.replace("SAVES", repr(str(Path(tmp) / "saves")))
        _start_once(game, env)  # warm the compiled-story cache and the OS file cache
        _start_once(BARE, env)
        bare, ours = [], []
        for _ in range(runs):
            bare.append(_start_once(BARE, env))
            ours.append(_start_once(game, env))
    b, g = statistics.median(bare), statistics.median(ours)
    # Each pair ran back to back, so its ratio is the least touched by the machine's other load
    # drifting during the runs.
    paired = statistics.median(o / r for r, o in zip(bare, ours, strict=True))
    print(f"start-up to Ready, median of {runs} runs:")
    print(f"  bare Textual app   {b * 1000:7.1f} ms   (min {min(bare) * 1000:.1f})")
    print(f"  iom play           {g * 1000:7.1f} ms   (min {min(ours) * 1000:.1f})")
    print(
        f"  ratio              {g / b:7.2f} x   (target <= 1.3; of the fastest runs "
        f"{min(ours) / min(bare):.2f} x, median of each pair's {paired:.2f} x)"
    )


async def _repaint(choices: int, size: tuple[int, int], passages: int) -> list[tuple[float, float]]:
    from game.engine import Game
    from game.ui.app import make_app, tune_gc
    from game.ui.screens.play import PlayScreen

    with tempfile.TemporaryDirectory() as tmp:
        app = make_app(ROOT / "story", Path(tmp) / "saves", seed=1, watch=False)
        tune_gc()  # as run_app does before running the app
        # A long scrollback: the text of whole playthroughs, over and over, before this game.
        sample = Game(app.session.story, seed=1)
        while not sample.ended:
            sample.choose([o.index for o in sample.choices if o.enabled][0])
        runs = [e for e in sample.transcript]
        padding: list[tuple[str, str]] = []
        while sum(1 for k, _ in padding if k == "choice") < passages:
            padding.extend(runs)
        timings: list[tuple[float, float]] = []
        async with app.run_test(size=size) as pilot:
            await pilot.press("n")
            await pilot.pause()
            game = app.session.game
            game.transcript[:0] = padding
            app.refresh_game_views()
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, PlayScreen)
            take = screen.take

            def timed_take(index: int) -> None:
                start, cpu = time.perf_counter(), time.thread_time()
                take(index)
                app.call_after_refresh(
                    lambda: timings.append((time.perf_counter() - start, time.thread_time() - cpu))
                )

            screen.take = timed_take  # type: ignore[method-assign]
            base = len(game.log)
            while len(timings) < choices:
                if game.ended:
                    while len(game.log) > base:
                        app.session.undo()
                    screen.refresh_view(moved=True)
                    await pilot.pause()
                    continue
                await pilot.press("1")
                await pilot.pause()
            app.session.close()
        return timings


def bench_repaint(choices: int, passages: int) -> None:
    for size in ((80, 24), (120, 40)):
        timings = asyncio.run(_repaint(choices, size, passages))
        wall = sorted(t * 1000 for t, _ in timings)
        cpu = sorted(c * 1000 for _, c in timings)
        print(f"choice to repaint, {passages}-passage transcript, {size[0]}x{size[1]}, {len(wall)} choices:")
        print(
            f"  wall clock   median {statistics.median(wall):6.1f} ms   p90 {wall[int(len(wall) * 0.9)]:6.1f} ms"
            f"   max {wall[-1]:6.1f} ms   (target: median <= 16)"
        )
        print(
            f"  UI thread    median {statistics.median(cpu):6.1f} ms   p90 {cpu[int(len(cpu) * 0.9)]:6.1f} ms"
            f"   (CPU time: what the machine's other load can't inflate)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=7, help="start-up runs of each app")
    parser.add_argument("--choices", type=int, default=120, help="choices to time")
    parser.add_argument("--passages", type=int, default=500, help="passages already in the transcript")
    parser.add_argument("--only", choices=("start", "repaint"), help="run one benchmark")
    args = parser.parse_args()
    if args.only != "repaint":
        bench_start(args.runs)
    if args.only != "start":
        bench_repaint(args.choices, args.passages)


if __name__ == "__main__":
    main()
