"""The authoring commands of `iom`: check, graph, playtest, stats and schema.

Each returns an exit status: 0 fine, 1 the story has problems (or a playtest crashed),
2 the command was used wrongly. None of them imports Textual, and none lets a traceback out:
an unexpected error is reported in one line (set IOM_DEBUG=1 to see the traceback).
"""

from __future__ import annotations

import json
import os
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

from ..engine.errors import Problem
from ..engine.expr import did_you_mean
from ..engine.story import Story
from ..engine.textsafe import one_line, terminal_safe
from ..paths import shipped_story_dir


class UsageError(Exception):
    """A command used wrongly: a bad node or variable name, a bad value."""


def _err(message: str) -> None:
    sys.stderr.write(f"iom: {one_line(message)}\n")


def _out(text: str) -> None:
    """Human output: story text, names and paths shown, never sent to the terminal as commands."""
    sys.stdout.write(terminal_safe(text))


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def guarded(run: Callable[[], int]) -> int:
    """Run a command; usage errors and unexpected errors become one line on stderr."""
    try:
        return run()
    except UsageError as exc:
        _err(str(exc))
        return 2
    except (KeyboardInterrupt, BrokenPipeError):
        raise
    except Exception as exc:  # noqa: BLE001 - no tool ever prints a traceback
        if os.environ.get("IOM_DEBUG"):
            raise
        _err(f"internal error: {type(exc).__name__}: {exc} (please report it; IOM_DEBUG=1 shows the details)")
        return 3


def load(path: Path | None) -> tuple[Path, Story | None, list[Problem]]:
    """Check a story folder: (folder, story or None, problems), with the extra analysis warnings."""
    from .analysis import check_story

    root = path or shipped_story_dir()
    story, problems = check_story(root)
    return root, story, problems


def _load_or_report(path: Path | None) -> tuple[Path, Story | None]:
    root, story, problems = load(path)
    if story is None:
        for p in problems:
            if p.severity == "error":
                sys.stderr.write(f"{p}\n")
        _err(f"the story in {root} has errors; `iom check {shlex.quote(str(root))}` lists them all")
    return root, story


# -- check -----------------------------------------------------------------------------------


def cmd_check(path: Path | None, as_json: bool, strict: bool) -> int:
    """Every error and warning; exit 1 on errors (and, with --strict, on warnings)."""
    root, _story, problems = load(path)
    errors = [p for p in problems if p.severity == "error"]
    warnings = [p for p in problems if p.severity == "warning"]
    if as_json:
        print(
            json.dumps(
                {"errors": [p.to_dict() for p in errors], "warnings": [p.to_dict() for p in warnings]},
                indent=2,
            )
        )
    else:
        for p in problems:
            print(p)
        summary = f"{_plural(len(errors), 'error')}, {_plural(len(warnings), 'warning')}"
        print(
            f"{one_line(str(root))}: {summary}" if problems else f"{one_line(str(root))}: no problems found"
        )
    return 1 if errors or (strict and warnings) else 0


# -- graph -----------------------------------------------------------------------------------


def cmd_graph(path: Path | None, fmt: str, scene: str | None, output: Path | None) -> int:
    """The story map as DOT or Mermaid, to a file or stdout."""
    from .graph import build_map, to_dot, to_mermaid

    _root, story = _load_or_report(path)
    if story is None:
        return 1
    try:
        story_map = build_map(story, scene)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    text = to_dot(story_map) if fmt == "dot" else to_mermaid(story_map)
    if output is None:
        _out(text)
    else:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"can't write {output}: {exc.strerror}") from None
        sys.stderr.write(
            f"wrote {one_line(str(output))} ({len(story_map.nodes)} nodes, {len(story_map.edges)} edges)\n"
        )
    return 0


# -- stats -----------------------------------------------------------------------------------


def cmd_stats(path: Path | None, as_json: bool) -> int:
    """Words, nodes, choices, endings and events, in total, per case and per scene."""
    from .stats import format_stats, story_stats

    _root, story = _load_or_report(path)
    if story is None:
        return 1
    stats = story_stats(story)
    if as_json:
        print(json.dumps(stats.to_dict(), indent=2))
    else:
        _out(format_stats(stats))
    return 0


# -- schema ----------------------------------------------------------------------------------


def cmd_schema(output: Path | None) -> int:
    """The JSON Schema of story files."""
    from .schema import story_schema

    text = json.dumps(story_schema(), indent=2) + "\n"
    if output is None:
        sys.stdout.write(text)
        return 0
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"can't write {output}: {exc.strerror}") from None
    sys.stderr.write(f"wrote {one_line(str(output))}\n")
    return 0


# -- starting anywhere -----------------------------------------------------------------------

_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


def parse_settings(story: Story, settings: Sequence[str]) -> dict[str, Any]:
    """`name=value` strings as typed values for Game(values=...); UsageError says what's wrong."""
    values: dict[str, Any] = {}
    for item in settings:
        name, sep, raw = item.partition("=")
        name, raw = name.strip(), raw.strip()
        if not sep or not name:
            raise UsageError(f"--set wants NAME=VALUE, e.g. --set becky.trust=5 (not '{item}')")
        if name not in story.var_index:
            guess = did_you_mean(name, list(story.var_index))
            hint = f"; did you mean '{guess}'?" if guess else ""
            raise UsageError(f"--set: there is no variable '{name}'{hint}")
        var = story.variable(name)
        if var.type == "int":
            try:
                value: Any = int(raw)
            except ValueError:
                raise UsageError(f"--set: {name} takes a whole number, not '{raw}'") from None
            if not var.min <= value <= var.max:
                raise UsageError(f"--set: {name} must be within {var.min}..{var.max}, not {value}")
        elif var.type == "bool":
            if raw.lower() not in _TRUE | _FALSE:
                raise UsageError(f"--set: {name} takes true or false, not '{raw}'")
            value = raw.lower() in _TRUE
        else:
            value = raw.strip("'\"")
            if value not in var.values:
                guess = did_you_mean(value, list(var.values))
                hint = f"; did you mean '{guess}'?" if guess else ""
                raise UsageError(f"--set: {name} takes one of {', '.join(var.values)}, not '{value}'{hint}")
        values[name] = value
    return values


def events_matching(story: Story, patterns: Sequence[str]) -> list[str]:
    """The ids of the events each pattern names (a node id, or a pattern such as
    '*.opening'); UsageError for a pattern that names no event."""
    from fnmatch import fnmatchcase

    from ..engine.textsafe import one_line

    events = [story.node_ids[ev.node] for ev in story.events]
    found: list[str] = []
    for pattern in patterns:
        hits = [n for n in events if fnmatchcase(n, pattern)]
        if not hits:
            guess = did_you_mean(pattern, events)
            hint = f"; did you mean '{guess}'?" if guess else ""
            raise UsageError(f"--skip: no event matches '{one_line(pattern)}'{hint}")
        found.extend(n for n in hits if n not in found)
    return found


def check_node(story: Story, node: str | None, option: str = "--from") -> str | None:
    """The node id, if the story has it; UsageError with a suggestion if not."""
    if node is None or node in story.node_index:
        return node
    guess = did_you_mean(node, list(story.node_index))
    if guess is None:
        # a name without its scene: look for it at the end of the full ids
        ends = [n for n in story.node_index if n.endswith("." + node)]
        guess = ends[0] if len(ends) == 1 else None
    hint = f"; did you mean '{guess}'?" if guess else ""
    raise UsageError(f"{option}: there is no node '{node}'{hint}")


# -- playtest --------------------------------------------------------------------------------


class ProgressBar:
    """A progress bar on stderr (only when stderr is a terminal, unless forced)."""

    def __init__(self, label: str, stream: IO[str] | None = None, force: bool = False) -> None:
        self.stream = stream or sys.stderr
        self.enabled = force or self.stream.isatty()
        self.label = one_line(label)
        self.began = time.perf_counter()
        self.last = 0.0

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        if now - self.last < 0.1 and done < total:
            return
        self.last = now
        width = 30
        filled = int(width * done / total) if total else width
        bar = "#" * filled + "-" * (width - filled)
        self.stream.write(f"\r{self.label} [{bar}] {done:,}/{total:,} {now - self.began:5.1f}s")
        self.stream.flush()

    def done(self) -> None:
        if self.enabled:
            self.stream.write("\r" + " " * 79 + "\r")
            self.stream.flush()


def cmd_playtest(
    path: Path | None,
    *,
    runs: int,
    seed: int,
    strategies: list[str],
    as_json: bool,
    exhaustive: bool,
    max_states: int,
    path_to: str | None,
    start: str | None,
    max_seconds: float | None = None,
    settings: list[str],
    max_steps: int,
    jobs: int,
    progress: bool | None,
    reading: bool = False,
) -> int:
    """Random playthroughs (one batch per strategy), an exhaustive search, or the reading report."""
    from . import playtest as pt

    root, story = _load_or_report(path)
    if story is None:
        return 1
    start = check_node(story, start)
    values = parse_settings(story, settings)
    if runs < 1 or max_steps < 1 or max_states < 1 or jobs < 1:
        raise UsageError("--runs, --max-steps, --max-states and --jobs must be at least 1")
    force = bool(progress)
    quiet = progress is False
    if reading and exhaustive:
        raise UsageError("--reading plays whole games; it can't be used with --exhaustive")
    if exhaustive:
        check_node(story, path_to, "--path-to")
        bar = ProgressBar("exploring", force=force)
        if quiet:
            bar.enabled = False
        from .analysis import ruled_out

        first = story.node_index[start] if start is not None else None
        unreachable = ruled_out(story, first, (story.var_index[name] for name in values or {}))
        try:
            report = pt.explore(
                story,
                max_states=max_states,
                max_seconds=max_seconds,
                start=start,
                values=values,
                path_to=path_to,
                progress=bar,
                ruled_out=unreachable,
                jobs=jobs,
            )
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        finally:
            bar.done()
        if first is not None:
            report.outside = outside_start(story, first)
        if as_json:
            print(json.dumps(report.to_dict(), indent=2))
        else:
            _out(format_explore(report, root))
        return 1 if report.crash_count else 0
    if path_to is not None:
        raise UsageError("--path-to needs --exhaustive")
    if reading:
        return _reading(story, runs, seed, strategies, as_json, max_steps, start, values, force, quiet)
    for spec in strategies:
        if spec.strip() == "patient":
            raise UsageError("the patient strategy needs --reading (it plays recorded games)")
        try:
            pt.parse_strategy(spec, story)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    reports = []
    for spec in strategies:
        bar = ProgressBar(f"playing ({spec})", force=force)
        if quiet:
            bar.enabled = False
        try:
            reports.append(
                pt.playtest(
                    story,
                    runs,
                    seed,
                    spec,
                    max_steps=max_steps,
                    start=start,
                    values=values,
                    jobs=jobs,
                    progress=bar,
                )
            )
        finally:
            bar.done()
    if as_json:
        if len(reports) == 1:
            print(json.dumps(reports[0].to_dict(), indent=2))
        else:
            print(json.dumps(_combined(reports), indent=2))
    else:
        for r in reports:
            _out(format_playtest(r, story, root, start, values))
        if len(reports) > 1:
            _out(format_comparison(reports, story))
    return 1 if any(r.crash_count for r in reports) else 0


def _reading(
    story: Story,
    runs: int,
    seed: int,
    strategies: list[str],
    as_json: bool,
    max_steps: int,
    start: str | None,
    values: dict[str, Any],
    force: bool,
    quiet: bool,
) -> int:
    """The reading report of each strategy: what a player reads and clicks (see reading.py)."""
    from .reading import check_strategy, format_reading, reading

    for spec in strategies:
        try:
            check_strategy(spec, story)
        except ValueError as exc:
            raise UsageError(f"{exc}, and patient") from None
    reports = []
    for spec in strategies:
        bar = ProgressBar(f"reading ({spec})", force=force)
        if quiet:
            bar.enabled = False
        try:
            reports.append(
                reading(
                    story, runs, seed, spec, max_steps=max_steps, start=start, values=values, progress=bar
                )
            )
        finally:
            bar.done()
    if as_json:
        data: Any = reports[0].to_dict() if len(reports) == 1 else {r.strategy: r.to_dict() for r in reports}
        print(json.dumps(data, indent=2))
    else:
        sys.stdout.write("\n".join(format_reading(r) for r in reports))
    return 1 if any(run.error for r in reports for run in r.runs) else 0


def _combined(reports: list[Any]) -> dict[str, Any]:
    """Several strategies' reports in one object, with totals at the top."""
    first = reports[0]
    endings: dict[str, int] = {}
    for r in reports:
        for k, v in r.endings.items():
            endings[k] = endings.get(k, 0) + v
    visited = [any(r.node_visits[i] for r in reports) for i in range(len(first.node_ids))]
    return {
        "story": first.story_id,
        "runs": sum(r.runs for r in reports),
        "steps": sum(r.steps for r in reports),
        "endings": dict(sorted(endings.items(), key=lambda kv: (-kv[1], kv[0]))),
        "nodes_visited": sum(visited),
        "nodes_total": len(first.node_ids),
        "crashes": [c for r in reports for c in r.to_dict()["crashes"]],
        "strategies": {r.strategy: r.to_dict() for r in reports},
    }


def _pct(n: int, total: int) -> str:
    return f"{100 * n / total:5.1f}%" if total else "    -"


def format_playtest(r: Any, story: Story, root: Path, start: str | None, values: dict[str, Any]) -> str:
    """A random playtest's report, for people."""
    from_note = f", from {start}" if start else ""
    set_note = "".join(
        f" --set {k}={str(v).lower() if isinstance(v, bool) else v}" for k, v in values.items()
    )
    lines = [
        f"Playtest of {story.title} ({one_line(str(root))}): {_plural(r.runs, 'run')}, strategy {r.strategy}, seed {r.seed}{from_note}",
        f"  {r.steps:,} choices in {r.seconds:.2f} s ({r.steps_per_second:,.0f} a second"
        + (f", {r.jobs} processes" if r.jobs > 1 else "")
        + f"), {r.nodes_entered:,} nodes entered",
        f"  nodes visited:  {r.nodes_visited:,} of {len(r.node_ids):,} ({_pct(r.nodes_visited, len(r.node_ids)).strip()})",
        f"  choices taken:  {len(r.choice_counts):,} of {r.choices_total:,} ({_pct(len(r.choice_counts), r.choices_total).strip()})",
    ]
    unvisited = r.unvisited_nodes
    if unvisited:
        shown = ", ".join(unvisited[:12]) + (
            f" and {len(unvisited) - 12} more" if len(unvisited) > 12 else ""
        )
        lines.append(f"  never visited:  {shown}")
    story_endings = [e for e in story.endings if e.character is None]
    lines.append("  endings:")
    for e in sorted(story_endings, key=lambda e: (-r.endings.get(e.id, 0), e.id)):
        n = r.endings.get(e.id, 0)
        lines.append(f"    {n:>8,} {_pct(n, r.runs)}  {e.id}" + ("   (never reached)" if not n else ""))
    finished = sum(r.endings.get(e.id, 0) for e in story_endings)
    if r.unfinished:
        lines.append(
            f"    {r.unfinished:>8,} {_pct(r.unfinished, r.runs)}  (stopped after {_plural(r.unfinished, 'run')} "
            f"hit the step limit; seeds {', '.join(map(str, r.unfinished_seeds[:5]))})"
        )
    elif finished < r.runs - r.crash_count and story_endings:
        lines.append(f"    {r.runs - r.crash_count - finished:>8,}          (other)")
    cases = r.cases()
    for c in story.characters:
        data = cases.get(c.id)
        if not data:
            continue
        lines.append(f"  {c.name} ({c.id}):")
        lines.append(
            "    endings: " + ", ".join(f"{k} {_pct(v, r.runs).strip()}" for k, v in data["endings"].items())
        )
        parts = []
        for name, dist in data["variables"].items():
            if "mean" in dist:
                parts.append(f"{name} {dist['mean']:.1f} ({dist['min']}-{dist['max']})")
            else:
                top = sorted(dist["values"].items(), key=lambda kv: -kv[1])[:3]
                parts.append(f"{name} " + "/".join(f"{k} {_pct(v, r.runs).strip()}" for k, v in top))
        for i in range(0, len(parts), 4):
            lines.append(("    at the end: " if i == 0 else "                ") + ", ".join(parts[i : i + 4]))
    if r.crash_count:
        lines.append(
            f"  CRASHES: {r.crash_count:,} (the first {len(r.crashes)} below; each line reproduces one)"
        )
        for crash in r.crashes:
            lines.append(
                f"    run {crash.run}, seed {crash.seed}, at {crash.node} after {_plural(crash.steps, 'choice')}: "
                f"{crash.error}"
            )
            keys = " ".join(crash.typed)
            from_args = (f" --from {start}" if start else "") + set_note
            lines.append(
                f"      replay: printf '{keys.replace(' ', chr(92) + 'n')}\\n' | iom play --plain --story {one_line(shlex.quote(str(root)))}"
                f" --seed {crash.seed}{from_args} --saves /tmp/iom-replay"
            )
            if not crash.reproduced:
                lines.append("      (a plain Game did not reproduce this: please report it as an engine bug)")
    else:
        lines.append("  crashes: none")
    return "\n".join(lines) + "\n\n"


def format_comparison(reports: list[Any], story: Story) -> str:
    """Strategies side by side: story endings, then each case's endings and mean outcomes."""
    names = [r.strategy for r in reports]
    width = max(12, *(len(n) + 2 for n in names))
    head = f"{'':<34}" + "".join(f"{n:>{width}}" for n in names)
    lines = ["Strategies compared (share of runs, or mean at the end)", head]
    for e in story.endings:
        if e.character is None:
            lines.append(
                f"{('  ' + e.id)[:33]:<34}"
                + "".join(f"{_pct(r.endings.get(e.id, 0), r.runs):>{width}}" for r in reports)
            )
    for c in story.characters:
        lines.append(f"  {c.name}")
        for e in story.endings:
            if e.character == c.id:
                lines.append(
                    f"{('    ' + e.id)[:33]:<34}"
                    + "".join(f"{_pct(r.endings.get(e.id, 0), r.runs):>{width}}" for r in reports)
                )
        variables = reports[0].cases().get(c.id, {}).get("variables", {})
        for name in variables:
            means = [r.cases().get(c.id, {}).get("variables", {}).get(name, {}).get("mean") for r in reports]
            if all(m is not None for m in means):
                lines.append(f"{('    ' + name)[:33]:<34}" + "".join(f"{m:>{width}.2f}" for m in means))
    return "\n".join(lines) + "\n"


def outside_start(story: Story, first: int) -> set[int]:
    """The nodes no way in the story's graph leads to from node `first` (whatever the
    conditions): from a test start, the opening it skips and anything only it leads to."""
    from .analysis import _reach
    from .ir import nodes

    hubs = [i for i, ir in nodes(story) if ir["hub"] is not None]
    reach = _reach(story, hubs, story.ir_turns(), None, first)
    return {i for i, ok in enumerate(reach) if not ok}


def format_explore(report: Any, root: Path) -> str:
    """An exhaustive search's report, for people."""
    stopped = "; ".join(report.why_incomplete)
    if report.exhausted:
        verdict = "  complete: yes, every reachable state was explored"
    elif report.complete:
        how = (
            "reached or ruled out by the story's conditions and ranges"
            if report.unreachable_nodes
            else "reached"
        )
        verdict = (
            f"  complete: yes, every node and ending was {how} (the state search itself stopped: {stopped})"
        )
    else:
        verdict = f"  complete: NO ({stopped})"
    extra = []
    if report.probed:
        extra.append(f"{report.probed:,} choices of random play from where the search stopped")
    if report.played:
        extra.append(f"{report.played:,} playthroughs from the start")
    lines = [
        f"Exhaustive search of {one_line(str(root))}: {report.states:,} states, {report.transitions:,} choices tried, "
        f"{report.seconds:.1f} s",
        verdict,
        f"  nodes reached: {sum(report.reached):,} of {len(report.node_ids) - len(report.outside):,}"
        + (f" (with {' and '.join(extra)})" if extra else ""),
        f"  endings reached: {len(report.endings_reached):,} of {len(report.all_endings):,}",
        f"  choices that can be taken: {len(report.choices_taken):,} of {report.choices_total:,}",
    ]
    word = "unreachable" if report.complete else "not reached (the search stopped early, so not proven)"
    if report.outside:
        lines.append(
            f"  nodes before the --from start: {len(report.outside):,} (nothing leads to them "
            "from there, such as the opening it skips; not counted as unreachable)"
        )
    if report.unreachable_nodes:
        lines.append(f"  nodes {word}:")
        lines.extend(f"    {n}" for n in report.unreachable_nodes)
    if report.unreachable_endings:
        lines.append(f"  endings {word}:")
        lines.extend(f"    {e}" for e in report.unreachable_endings)
    if report.crash_count:
        lines.append(f"  CRASHES: {report.crash_count:,}")
        for crash in report.crashes:
            lines.append(f"    at {crash['node']}: {crash['error']}")
            for n, step in enumerate(crash["path"], 1):
                lines.append(
                    f"      {n}. at {step['node']}: {step['text']}"
                    + (f"  (+{step['random_outcomes']} random outcomes)" if step["random_outcomes"] else "")
                )
    else:
        lines.append("  crashes: none")
    if report.path_to is not None:
        if report.path is None and report.node_ids.index(report.path_to) in report.outside:
            lines.append(f"  no path to {report.path_to}: nothing leads there from the --from start")
        elif report.path is None:
            lines.append(f"  no path to {report.path_to} was found")
        else:
            which = "shortest path" if report.path_shortest else "a path (not proven the shortest)"
            seeded = (
                f", with the random outcomes of `iom play --seed {report.path_seed}`"
                if report.path_seed is not None
                else ""
            )
            lines.append(f"  {which} to {report.path_to} ({_plural(len(report.path), 'choice')}{seeded}):")
            if not report.path:
                lines.append("    (it is entered at the very start)")
            for n, step in enumerate(report.path, 1):
                luck = f"  (needs {_plural(step.luck, 'random outcome')} to go this way)" if step.luck else ""
                lines.append(f'    {n}. at {step.node}: choose "{step.text}"{luck}')
    return "\n".join(lines) + "\n"
