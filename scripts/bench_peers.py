"""Side by side with inkjs: the peer harness's 10,000-node story, and the shipped story.

The peer harness (a folder holding gen_story.py, ink_walk.js, iom_walk.py; by default
../shared/peers next to the project) writes one synthetic story for inkjs and for us, and its
walkers take exactly the same random paths. This script copies it to a scratch folder, installs
inkjs there if needed, makes the story, then runs, in rounds, inkjs and our engine through the
public API (`load_story`, `Game`, `choose`):

  first pass    nodes compiled on demand inside the timed walk, no undo or transcript
  steady        every node compiled before the walk
  record        undo, transcript and notices kept (the interactive path), first pass

and prints each round's steps a second and their ratio to inkjs's in the same round, then the
median ratio against the bars (5x, 12x, 3x). Last, the shipped story through the public API
(Game with record=False, a random enabled choice each step), in steps a second of CPU time,
against 150,000.

Usage: python3 scripts/bench_peers.py [--peers DIR] [--rounds 5] [--nodes 10000] [--walks 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BARS = {"first": 5.0, "steady": 12.0, "record": 3.0}
SHIPPED_BAR = 150_000


def _json_line(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> dict[str, object]:
    out = subprocess.run(cmd, cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


def prepare(peers: Path, work: Path, nodes: int) -> Path:
    """The harness in `work`, inkjs installed, the story made and compiled for ink; its folder."""
    if not (work / "gen_story.py").exists():
        shutil.copytree(peers, work, dirs_exist_ok=True)
    if not (work / "node_modules").exists():
        subprocess.run(["npm", "install", "--silent"], cwd=work, check=True)
    story = work / "stories" / f"n{nodes}"
    if not (story / "story.json").exists():
        subprocess.run(
            [
                sys.executable,
                "gen_story.py",
                "--nodes",
                str(nodes),
                "--seed",
                "1",
                "--out",
                str(story),
                "--format",
                "all",
            ],
            cwd=work,
            check=True,
            capture_output=True,
        )
    if not (story / "story.ink.json").exists():
        subprocess.run(
            [
                "node",
                "--expose-gc",
                "ink_walk.js",
                "--ink",
                str(story / "story.ink"),
                "--walks",
                "1",
                "--seed",
                "1",
                "--save-json",
                str(story / "story.ink.json"),
            ],
            cwd=work,
            check=True,
            capture_output=True,
        )
    return story


def peer_rounds(work: Path, story: Path, rounds: int, walks: int) -> dict[str, list[float]]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    ratios: dict[str, list[float]] = {k: [] for k in BARS}
    for r in range(rounds):
        ink = _json_line(
            [
                "node",
                "--expose-gc",
                "ink_walk.js",
                "--json",
                str(story / "story.ink.json"),
                "--walks",
                str(walks),
                "--seed",
                "1",
            ],
            work,
        )
        ink_rate = float(ink["steps_per_s"])  # type: ignore[arg-type]
        line = [f"round {r + 1}: inkjs {ink_rate:>9,.0f}"]
        for name, flags in (("first", []), ("steady", ["--compile-all"]), ("record", ["--record"])):
            ours = _json_line(
                [
                    sys.executable,
                    "iom_walk.py",
                    "--neutral",
                    str(story / "story.json"),
                    "--walks",
                    str(walks),
                    "--seed",
                    "1",
                    *flags,
                ],
                work,
                env,
            )
            rate = float(ours["steps_per_s"])  # type: ignore[arg-type]
            ratios[name].append(rate / ink_rate)
            line.append(f"{name} {rate:>9,.0f} ({rate / ink_rate:4.1f}x)")
        print("  " + " | ".join(line), flush=True)
    return ratios


def shipped() -> float:
    """Steps a second (CPU) on the shipped story through the public API, best of three."""
    sys.path.insert(0, str(ROOT / "scripts"))
    from bench_playtest import plain_engine_loop  # the same loop, and it puts ROOT on the path

    from game.engine import load_story

    story = load_story(ROOT / "story")
    story.compile_all()
    return max(plain_engine_loop(story) for _ in range(3))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--peers", type=Path, default=ROOT.parent / "shared" / "peers")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "iom-peers")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--nodes", type=int, default=10_000)
    parser.add_argument("--walks", type=int, default=1000)
    parser.add_argument("--no-shipped", action="store_true")
    a = parser.parse_args()
    if not (a.peers / "gen_story.py").exists():
        sys.exit(f"bench_peers: no peer harness at {a.peers} (give --peers DIR)")
    story = prepare(a.peers, a.work, a.nodes)
    print(
        f"== {a.nodes:,}-node peer story, {a.walks:,} walks a run, {a.rounds} rounds (ratios to inkjs in the same round)"
    )
    ratios = peer_rounds(a.work, story, a.rounds, a.walks)
    for name, bar in BARS.items():
        median = statistics.median(ratios[name])
        verdict = "meets" if median >= bar else "BELOW"
        print(
            f"  {name:>7}: median {median:5.2f}x inkjs (runs {min(ratios[name]):.2f}-{max(ratios[name]):.2f}x); bar {bar:g}x: {verdict}"
        )
    if not a.no_shipped:
        rate = shipped()
        verdict = "meets" if rate >= SHIPPED_BAR else "BELOW"
        print(
            f"== shipped story, public API, no recording: {rate:,.0f} steps/s CPU; bar {SHIPPED_BAR:,}: {verdict}"
        )


if __name__ == "__main__":
    main()
