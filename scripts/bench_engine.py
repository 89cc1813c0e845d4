"""Benchmark the story engine on synthetic stories of 1,000 and 10,000 nodes.

Prints, for each size: (a) cold load+check time next to a bare `yaml.load(CSafeLoader)` of the
same files, (b) warm load from the compiled-story cache, (c) random-walk engine steps per
second, (d) peak memory. Each measurement runs in a fresh process so they don't disturb each
other. Usage: python3 scripts/bench_engine.py [--sizes 1000 10000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODES_PER_FILE = 200
PROSE = (
    "The rain comes in sideways off the cut and the bus shelter on the Pensnett road has lost "
    "its glass again. You check the list, the names, the times. Somebody has chalked a hopscotch "
    "on the pavement outside the flats, and a dog barks behind a fence that leans towards the road."
)


def generate(root: Path, n: int, seed: int = 1) -> None:
    """A story of n nodes, 3 choices each, conditions and effects on 4 variables, ~5% endings."""
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    variables = "\n".join(
        f"  {v}: {{type: int, initial: 5, min: 0, max: 10, label: {v.title()}, display: bar, track: true}}"
        for v in ("trust", "housing", "health", "money")
    )
    (root / "story.yaml").write_text(
        f"id: bench-{n}\ntitle: Benchmark {n}\nstart: part0.n0\nvariables:\n{variables}\n",
        encoding="utf-8",
    )
    names = ("trust", "housing", "health", "money")
    files = (n + NODES_PER_FILE - 1) // NODES_PER_FILE
    for f in range(files):
        lines = ["nodes:"]
        for i in range(f * NODES_PER_FILE, min(n, (f + 1) * NODES_PER_FILE)):
            lines.append(f"  n{i}:")
            lines.append("    text: |")
            lines.append(f"      {PROSE}")
            lines.append("")
            lines.append(f"      Node {i}: trust is {{trust}} and money is {{money}}.")
            if i > 0 and rng.random() < 0.05:
                lines.append(f"    ending: {{id: end{i}, title: Ending {i}, category: mixed}}")
                continue
            lines.append("    choices:")
            for c in range(3):
                target = rng.randrange(n)
                tf = target // NODES_PER_FILE
                ref = f"n{target}" if tf == f else f"part{tf}.n{target}"
                a, b = rng.sample(names, 2)
                lines.append(f"      - text: Choice {c} at node {i}, towards {target}")
                if c > 0:
                    lines.append(f"        if: {a} >= {rng.randint(0, 6)} and {b} < {rng.randint(4, 11)}")
                lines.append(f"        effects: [{a} += {rng.randint(1, 2)}, {b} -= 1]")
                lines.append(f"        goto: {ref}")
        (root / f"part{f}.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(kind: str, root: str, cache: str) -> dict[str, float]:
    """One measurement, run in this (fresh) process."""
    sys.path.insert(0, str(ROOT))
    import yaml

    from game.engine import Game, load_story

    out: dict[str, float] = {}
    if kind == "bare":
        files = sorted(Path(root).rglob("*.yaml"))
        t = time.perf_counter()
        for p in files:
            yaml.load(p.read_bytes(), Loader=yaml.CSafeLoader)  # noqa: S506 - CSafeLoader is safe
        out["seconds"] = time.perf_counter() - t
    elif kind in ("cold", "warm"):
        t = time.perf_counter()
        load_story(root, cache_dir=Path(cache) if kind == "warm" else False)
        out["seconds"] = time.perf_counter() - t
    elif kind == "walk":
        story = load_story(root, cache_dir=Path(cache))
        t = time.perf_counter()
        story.compile_all()
        out["compile_all_seconds"] = time.perf_counter() - t
        out["bare_steps_per_second"] = _bare_walk(story)
        rng = random.Random(7)
        game = Game(story, seed=1, record=False)
        best = 0.0
        for window in range(4):  # the first window warms up; the best of the other three counts
            steps = 0
            t = time.perf_counter()
            while True:
                for _ in range(1000):
                    if game.ending is not None:
                        game = Game(story, seed=rng.getrandbits(32), record=False)
                    opts = [o.index for o in game.options if o.enabled]
                    game.choose(opts[int(rng.random() * len(opts))])
                steps += 1000
                elapsed = time.perf_counter() - t
                if elapsed > 1.0:
                    break
            if window:
                best = max(best, steps / elapsed)
        out["steps_per_second"] = best
    out["peak_mb"] = _peak_mb()
    return out


def _bare_walk(story, steps: int = 300_000) -> float:
    """A plain Python loop over the same graph (tuple conditions, no engine), for scale."""
    import operator

    ops = {">=": operator.ge, "<": operator.lt}
    nodes = []
    for i in range(len(story.node_ids)):
        n = story.ir_node(i)
        choices = []
        for c in n["choices"]:
            cond = c["if"]
            conds = [] if cond is None else [(cond[k][2][1], ops[cond[k][1]], cond[k][3][1]) for k in (1, 2)]
            effects = [(e[1], e[3][1] if e[2] == "+=" else -e[3][1]) for e in c["effects"]]
            choices.append((conds, effects, c["goto"]))
        nodes.append({"choices": choices, "end": n["ending"] is not None})
    rr = random.Random(7).random
    v = [5, 5, 5, 5]
    cur = 0
    t = time.perf_counter()
    for _ in range(steps):
        node = nodes[cur]
        if node["end"]:
            v = [5, 5, 5, 5]
            cur = 0
            node = nodes[0]
        ok = [c for c in node["choices"] if all(op(v[s], k) for s, op, k in c[0])]
        _conds, effects, cur = ok[int(rr() * len(ok))]
        for s, d in effects:
            x = v[s] + d
            v[s] = 0 if x < 0 else 10 if x > 10 else x
    return steps / (time.perf_counter() - t)


def run(kind: str, root: Path, cache: Path) -> dict[str, float]:
    proc = subprocess.run(
        [sys.executable, __file__, "--measure", kind, str(root), str(cache)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(proc.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--repeat", type=int, default=3, help="runs per timing; the best is shown")
    parser.add_argument("--measure", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(*args.measure)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            root = Path(tmp) / f"story{n}"
            cache = Path(tmp) / f"cache{n}"
            generate(root, n)
            size = sum(p.stat().st_size for p in root.rglob("*.yaml"))
            bare = min(run("bare", root, cache)["seconds"] for _ in range(args.repeat))
            colds = [run("cold", root, cache) for _ in range(args.repeat)]
            cold = min(c["seconds"] for c in colds)
            run("warm", root, cache)  # fills the cache
            warms = [run("warm", root, cache) for _ in range(args.repeat)]
            warm = min(w["seconds"] for w in warms)
            walk = run("walk", root, cache)
            print(f"== {n:,} nodes, {size / 1e6:.1f} MB of YAML in {len(list(root.glob('*.yaml')))} files")
            print(f"  (a) bare yaml.load (CSafeLoader): {bare:.3f} s")
            print(
                f"      cold load + check:            {cold:.3f} s  ({cold / bare:.2f}x bare; target <= 1.25x)"
            )
            print(
                f"  (b) warm load from cache:         {warm:.3f} s  ({warm / cold:.3f}x cold; target <= 0.1x)"
            )
            print(
                f"  (c) random walk:                  {walk['steps_per_second']:,.0f} steps/s (target >= 200,000); "
                f"a bare Python loop over the same graph: {walk['bare_steps_per_second']:,.0f}/s"
            )
            print(f"      compiling every node first:   {walk['compile_all_seconds']:.3f} s")
            print(
                f"  (d) peak memory: cold load {max(c['peak_mb'] for c in colds):.0f} MB, "
                f"warm load {max(w['peak_mb'] for w in warms):.0f} MB, walk {walk['peak_mb']:.0f} MB"
            )


if __name__ == "__main__":
    main()
