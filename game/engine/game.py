"""A game in progress: the runtime that walks a compiled story.

The API is ink-like: read `passage` and `choices`, call `choose(i)`, check `ended`; `undo()`
steps back; `to_dict()`/`Game.from_dict()` save and restore. All randomness comes from the
game's own seeded generator, so a seed plus the choice log replays a game exactly.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import ChoiceError, SaveError, StoryRuntimeError
from .story import HUB, MAX_CHOICES_PER_NODE, Choice, Ending, Node, Story, choice_uid

MAX_AUTO_STEPS = 10_000
UNDO_LIMIT = 200
STATE_VERSION = 1
_MASK = (1 << 64) - 1


class Option:
    """One choice as the player sees it now."""

    __slots__ = ("index", "text", "enabled", "reason", "cost", "choice", "ref")

    def __init__(self, index: int, text: str, enabled: bool, reason: str, cost: str,
                 choice: Choice, ref: str) -> None:
        self.index = index
        self.text = text
        self.enabled = enabled
        self.reason = reason
        self.cost = cost
        self.choice = choice
        self.ref = ref

    def __repr__(self) -> str:
        flag = "" if self.enabled else f" (disabled: {self.reason})"
        return f"<Option {self.index}: {self.text!r}{flag}>"


@dataclass(frozen=True, slots=True)
class Notice:
    """A visible variable that changed with the last choice, e.g. Becky: Trust +1."""

    character: str | None
    label: str
    old: Any
    new: Any
    better: str = "higher"

    @property
    def improved(self) -> bool | None:
        """True for a change for the better, False for the worse, None when neither applies
        (a word or a flag, which has no direction)."""
        if isinstance(self.new, bool) or isinstance(self.old, bool) or not isinstance(self.new, int | float) \
                or not isinstance(self.old, int | float) or self.new == self.old:
            return None
        return (self.new > self.old) == (self.better != "lower")

    def __str__(self) -> str:
        who = f"{self.character}: " if self.character else ""
        if isinstance(self.new, bool) or isinstance(self.old, str) or isinstance(self.new, str):
            return f"{who}{self.label}: {self.new}"
        delta = self.new - self.old
        return f"{who}{self.label} {delta:+d}"


class Game:
    """One playthrough of a story, from a seed."""

    def __init__(self, story: Story, seed: int = 0, *, record: bool = True, start: str | None = None,
                 values: Mapping[str, Any] | None = None) -> None:
        """Begin a game at the story's start, or (to test a branch) at node `start` with
        variables preset from `values`; ValueError names an unknown node or variable."""
        self.story = story
        self.seed = int(seed) & _MASK
        self.record = record
        self.v: list[Any] = list(story.initial_values)
        self.visits = [0] * len(story.nodes)
        self.turn = 0
        self.rng = self.seed
        self.node = story.start
        self.hub = -1
        self.passage: list[str] = []
        self.options: list[Option] = []
        self.once_used: set[int] = set()
        self.ev_count: dict[int, int] = {}
        self.ev_last: dict[int, int] = {}
        self.ev_forced: dict[int, int] = {}
        self.char_endings: dict[int, str] = {}
        self.outcomes: list[tuple[int, str]] = []
        self.ending: Ending | None = None
        self.history: list[tuple[int, tuple[Any, ...]]] = []
        self.log: list[int] = []
        self.transcript: list[tuple[str, str]] = []
        self.notices: list[Notice] = []
        self._undo: deque[tuple[Any, ...]] = deque(maxlen=UNDO_LIMIT if record else 0)
        self._char_ids = story.char_index
        first = story.start
        if start is not None:
            if start not in story.node_index:
                raise ValueError(f"there is no node '{start}'")
            first = story.node_index[start]
            if story.turns is not None:
                self.hub = story.turns.hub  # so '<hub>' works without passing a hub first
        for name, value in (values or {}).items():
            if name not in story.var_index:
                raise ValueError(f"there is no variable '{name}'")
            self.set_var(name, value)
        self._record_turn()
        self._run(first)

    # -- random numbers (splitmix64: tiny state, same on every platform) -----------------
    def random(self) -> float:
        """A float in [0, 1) from the game's generator."""
        s = (self.rng + 0x9E3779B97F4A7C15) & _MASK
        self.rng = s
        z = ((s ^ (s >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
        return ((z ^ (z >> 31)) >> 11) * (1.0 / 9007199254740992.0)

    def randint(self, lo: int, hi: int) -> int:
        """A whole number from lo to hi inclusive."""
        if hi < lo:
            lo, hi = hi, lo
        return lo + int(self.random() * (hi - lo + 1))

    # -- reading the state ---------------------------------------------------------------
    @property
    def choices(self) -> list[Option]:
        """The choices on offer now, disabled ones included (with their reasons)."""
        return self.options

    @property
    def ended(self) -> bool:
        return self.ending is not None

    @property
    def current_node(self) -> Node:
        return self.story.node_at(self.node)

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    def get(self, name: str) -> Any:
        """The value of a variable by its full name, e.g. `becky.trust`."""
        return self.v[self.story.var_index[name]]

    def set_var(self, name: str, value: Any) -> None:
        """Set a variable by name (for testing a branch); clamped and checked like an effect."""
        var = self.story.variable(name)
        if var.type == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{name} takes a whole number")
            value = max(var.min, min(var.max, value))
        elif var.type == "bool":
            if not isinstance(value, bool):
                raise ValueError(f"{name} takes true or false")
        elif value not in var.values:
            raise ValueError(f"{name} takes one of: {', '.join(var.values)}")
        self.v[var.slot] = value

    def character_endings(self) -> dict[str, Ending]:
        """Each character's ending so far, by character id."""
        out = {}
        by_id = {e.id: e for e in self.story.endings}
        for char, eid in self.char_endings.items():
            out[self.story.characters[char].id] = by_id[eid]
        return out

    def series(self, name: str) -> list[tuple[int, Any]]:
        """A tracked variable's value at each turn: [(turn, value), ...]."""
        slot = self.story.var_index[name]
        pos = self.story.tracked.index(slot)
        return [(turn, values[pos]) for turn, values in self.history]

    # -- playing -------------------------------------------------------------------------
    def choose(self, index: int) -> None:
        """Take choice `index` of `choices`; raises ChoiceError if it can't be taken."""
        if not self.record and self.ending is None and 0 <= index < len(self.options):
            opt = self.options[index]
            if opt.enabled:  # the playtest fast path: no undo, transcript or notices
                self.log.append(index)
                self.passage = []
                self._take(opt.choice)
                return
        if self.ending is not None:
            raise ChoiceError("the story has ended")
        if not 0 <= index < len(self.options):
            raise ChoiceError(f"there is no choice {index + 1}")
        opt = self.options[index]
        if not opt.enabled:
            raise ChoiceError(opt.reason or "that choice is not available")
        snapshot = self._snapshot() if self.record else None
        if snapshot is not None:
            self._undo.append(snapshot)
            before = list(self.v)
            self.transcript.append(("choice", opt.text))
        self.log.append(index)
        self.passage = []
        try:
            self._take(opt.choice)
        except StoryRuntimeError:
            if snapshot is not None:
                self._undo.pop()
                self._restore(snapshot)
            raise
        if snapshot is not None:
            self.notices = self._diff(before)

    def undo(self) -> bool:
        """Step back to before the last choice; False if there is nothing to undo."""
        if not self._undo:
            return False
        self._restore(self._undo.pop())
        self.notices = []
        return True

    def _pay(self, ch: Choice) -> None:
        v = self.v
        for slot, amount in ch.cost:
            var = self.story.variables[slot]
            v[slot] = max(var.min, min(var.max, int(v[slot] - amount(self))))

    def _take(self, ch: Choice) -> None:
        if ch.cost:
            self._pay(ch)
        if ch.once:
            self.once_used.add(ch.uid)
        ev = ch.event
        if ev is not None:
            self.ev_count[ev.node] = self.ev_count.get(ev.node, 0) + 1
            self.ev_last[ev.node] = self.turn
        if ch.effects is not None:
            ch.effects(self)
        self._run(ch.target)

    def _run(self, target: int) -> None:
        nodes = self.story.nodes
        visits = self.visits
        steps = 0
        while True:
            steps += 1
            if steps > MAX_AUTO_STEPS:
                raise StoryRuntimeError(
                    f"the story went through {MAX_AUTO_STEPS:,} nodes without stopping for a "
                    f"choice (an endless loop?), last at '{self.story.node_ids[target] if target >= 0 else target}'"
                )
            if target < 0:
                if target == HUB:
                    if self.hub < 0:
                        raise StoryRuntimeError("'<hub>' was used before any hub was visited")
                    target = self.hub
                else:
                    turns = self.story.turns
                    if turns is None:
                        raise StoryRuntimeError("'<end-turn>' needs a 'turns' section")
                    self._end_turn()
                    target = turns.hub
                continue
            node = nodes[target]
            if node is None:
                node = self.story.node_at(target)
            if node.is_hub:
                self.hub = target
                forced = self._forced_event(node)
                if forced is not None:
                    self._pay(self.story.node_at(forced).event.choice)  # type: ignore[union-attr]
                    self.ev_forced[forced] = self.turn
                    self.ev_count[forced] = self.ev_count.get(forced, 0) + 1
                    self.ev_last[forced] = self.turn
                    target = forced
                    continue
            visits[target] += 1
            if node.effects is not None:
                node.effects(self)
            if node.text is not None:
                before = len(self.passage)
                node.text(self, self.passage)
                if self.record:
                    self.transcript.extend(("text", p) for p in self.passage[before:])
            if node.ending is not None:
                end = node.ending
                if end.character is None:
                    self.ending = end
                    self.node = target
                    self.options = []
                    self.outcomes.append((self.turn, end.id))
                    return
                char = self._char_ids[end.character]
                if char not in self.char_endings:
                    self.char_endings[char] = end.id
                    self.outcomes.append((self.turn, end.id))
            nav = node.nav
            if nav == "goto":
                target = node.goto
                continue
            if nav == "branch":
                for cond, effects, out in node.outs:
                    if cond is None or cond(self):
                        if effects is not None:
                            effects(self)
                        target = out
                        break
                continue
            if nav == "random":
                weights = [max(0, w(self)) for w, _e, _t in node.outs if w is not None]
                pick = self._weighted(weights)
                if pick < 0:
                    raise StoryRuntimeError(f"every random weight at '{node.id}' is zero")
                _w, effects, target = node.outs[pick]
                if effects is not None:
                    effects(self)
                continue
            self.node = target
            options = self._options(node)
            for opt in options:
                if opt.enabled:
                    self.options = options
                    return
            if node.fallback is not None:
                if node.fallback.effects is not None:
                    node.fallback.effects(self)
                target = node.fallback.target
                continue
            self.options = options
            raise StoryRuntimeError(f"dead end at '{node.id}': no choice can be taken")

    def _weighted(self, weights: list[float]) -> int:
        total = sum(weights)
        if total <= 0:
            return -1
        r = self.random() * total
        for i, w in enumerate(weights):
            r -= w
            if r < 0 and w > 0:
                return i
        return max(i for i, w in enumerate(weights) if w > 0)

    def _option(self, index: int, ch: Choice, ref: str) -> Option | None:
        enabled = True
        reason = ""
        if ch.cond is not None and not ch.cond(self):
            if ch.reason is None:
                return None
            enabled = False
            reason = ch.reason(self)
        cost = ""
        if ch.cost:
            parts = []
            for slot, amount_fn in ch.cost:
                var = self.story.variables[slot]
                amount = amount_fn(self)
                unit = var.unit[:-1] if amount == 1 and var.unit.endswith("s") else var.unit
                parts.append(f"{amount:g} {unit}")
                if enabled and self.v[slot] < amount:
                    enabled = False
                    reason = f"Needs {amount:g} {unit}; {self.v[slot]} left"
            cost = ", ".join(parts)
        return Option(index, ch.text(self), enabled, reason, cost, ch, ref)

    def _options(self, node: Node) -> list[Option]:
        options: list[Option] = []
        once_used = self.once_used
        for ch in node.choices:
            if ch.once and ch.uid in once_used:
                continue
            if ch.cost or (ch.cond is not None and ch.reason is not None):
                opt = self._option(len(options), ch, ch.ref)
                if opt is not None:
                    options.append(opt)
                continue
            cond = ch.cond
            if cond is not None and not cond(self):
                continue
            text = ch.const_text
            if text is None:
                options.append(Option(len(options), ch.text(self), True, "", "", ch, ch.ref))
                continue
            # Nothing about this option can differ between visits, so it is made once.
            index = len(options)
            opt = ch.shown.get(index)
            if opt is None:
                opt = ch.shown[index] = Option(index, text, True, "", "", ch, ch.ref)
            options.append(opt)
        if node.is_hub:
            for ev in self._hub_events(node):
                opt = self._option(len(options), ev.choice, ev.choice.ref)
                if opt is not None:
                    options.append(opt)
        return options

    def _event_open(self, ev: Any, tags: frozenset[str] | None) -> bool:
        if tags is not None and (ev.tags is None or not (tags & ev.tags)):
            return False
        count = self.ev_count.get(ev.node, 0)
        if ev.once and count:
            return False
        if ev.cooldown and count and self.turn - self.ev_last.get(ev.node, -10**9) < ev.cooldown:
            return False
        return True

    def _hub_events(self, node: Node) -> list[Any]:
        shown = []
        turn, ev_count, ev_last = self.turn, self.ev_count, self.ev_last
        for ev in self.story.hub_events(node)[1]:
            count = ev_count.get(ev.node)
            if count and (ev.once or (ev.cooldown and turn - ev_last.get(ev.node, -10**9) < ev.cooldown)):
                continue
            ch = ev.choice
            if ch.cond is not None and ch.reason is None and not ch.cond(self):
                continue
            shown.append(ev)
        limit = node.hub_limit
        if limit is None or len(shown) <= limit:
            return shown
        keep: list[Any] = []
        groups: dict[int, list[Any]] = {}
        for ev in shown:
            groups.setdefault(ev.priority, []).append(ev)
        for priority in sorted(groups, reverse=True):
            group = groups[priority]
            room = limit - len(keep)
            if room <= 0:
                break
            if len(group) <= room:
                keep.extend(group)
                continue
            pool = list(group)
            for _ in range(room):
                i = self._weighted([max(0, ev.weight(self)) for ev in pool])
                if i < 0:
                    break
                keep.append(pool.pop(i))
        order = {id(ev): n for n, ev in enumerate(shown)}
        keep.sort(key=lambda ev: order[id(ev)])
        return keep

    def _forced_event(self, node: Node) -> int | None:
        best: list[Any] = []
        turn, ev_count, ev_last, ev_forced = self.turn, self.ev_count, self.ev_last, self.ev_forced
        for ev in self.story.hub_events(node)[0]:  # highest priority first
            if best and ev.priority < best[0].priority:
                break
            n = ev.node
            count = ev_count.get(n)
            if count and (ev.once or ev_forced.get(n) == turn
                          or (ev.cooldown and turn - ev_last.get(n, -10**9) < ev.cooldown)):
                continue
            cond = ev.choice.cond
            if cond is not None and not cond(self):
                continue
            best.append(ev)
        if not best:
            return None
        if len(best) == 1:
            return int(best[0].node)
        i = self._weighted([max(0, ev.weight(self)) for ev in best])
        return int(best[max(i, 0)].node)

    def _end_turn(self) -> None:
        turns = self.story.turns
        assert turns is not None
        if turns.end_of_turn is not None:
            turns.end_of_turn(self)
        self.turn += 1
        variables = self.story.variables
        if turns.counter is not None:
            var = variables[turns.counter]
            self.v[var.slot] = min(var.max, self.v[var.slot] + 1)
        if turns.budget is not None and turns.refill is not None:
            var = variables[turns.budget]
            self.v[var.slot] = max(var.min, min(var.max, int(turns.refill(self))))
        self._record_turn()

    def _record_turn(self) -> None:
        if self.story.tracked:
            v = self.v
            self.history.append((self.turn, tuple(v[s] for s in self.story.tracked)))

    def _diff(self, before: list[Any]) -> list[Notice]:
        out = []
        chars = {c.id: c.name for c in self.story.characters}
        for var in self.story.variables:
            old, new = before[var.slot], self.v[var.slot]
            if old != new and var.display != "hidden" and var.slot not in self._quiet_slots():
                out.append(Notice(chars.get(var.character) if var.character else None, var.label, old, new,
                                  var.better))
        return out

    def _quiet_slots(self) -> set[int]:
        turns = self.story.turns
        if turns is None:
            return set()
        return {s for s in (turns.counter, turns.budget) if s is not None}

    # -- undo snapshots ------------------------------------------------------------------
    def _snapshot(self) -> tuple[Any, ...]:
        return (
            list(self.v), list(self.visits), self.turn, self.rng, self.node, self.hub,
            self.passage, self.options, set(self.once_used), dict(self.ev_count),
            dict(self.ev_last), dict(self.ev_forced), dict(self.char_endings), self.ending,
            len(self.history), len(self.log), len(self.transcript), len(self.outcomes),
            self.notices,
        )

    def _restore(self, s: tuple[Any, ...]) -> None:
        (self.v, self.visits, self.turn, self.rng, self.node, self.hub, self.passage,
         self.options, self.once_used, self.ev_count, self.ev_last, self.ev_forced,
         self.char_endings, self.ending, n_hist, n_log, n_tr, n_out, self.notices) = s
        del self.history[n_hist:]
        del self.log[n_log:]
        del self.transcript[n_tr:]
        del self.outcomes[n_out:]

    # -- saving --------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The whole state as JSON-ready data."""
        story = self.story
        nodes = story.node_ids
        return {
            "version": STATE_VERSION,
            "seed": self.seed,
            "rng": self.rng,
            "turn": self.turn,
            "node": nodes[self.node],
            "hub": nodes[self.hub] if self.hub >= 0 else None,
            "vars": {var.name: self.v[var.slot] for var in story.variables},
            "visits": {nodes[i]: n for i, n in enumerate(self.visits) if n},
            "passage": list(self.passage),
            "options": [
                {"ref": o.ref, "text": o.text, "enabled": o.enabled, "reason": o.reason, "cost": o.cost}
                for o in self.options
            ],
            "once_used": sorted(self._choice_key(uid) for uid in self.once_used),
            "events": {
                nodes[i]: [self.ev_count.get(i, 0), self.ev_last.get(i), self.ev_forced.get(i)]
                for i in set(self.ev_count) | set(self.ev_last) | set(self.ev_forced)
            },
            "character_endings": {story.characters[c].id: e for c, e in self.char_endings.items()},
            "ending": self.ending.id if self.ending else None,
            "outcomes": [list(o) for o in self.outcomes],
            "history": [[turn, list(values)] for turn, values in self.history],
            "tracked": [story.variables[s].name for s in story.tracked],
            "log": list(self.log),
            "transcript": [list(t) for t in self.transcript],
        }

    def _choice_key(self, uid: int) -> str:
        node, i = divmod(uid, MAX_CHOICES_PER_NODE)
        return f"{self.story.node_ids[node]}#{i}"

    @classmethod
    def from_dict(cls, story: Story, data: Any, *, record: bool = True) -> Game:
        """Rebuild a game from `to_dict()` data; SaveError says precisely what doesn't fit."""
        try:
            return _restore_game(cls, story, data, record)
        except SaveError:
            raise
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
            raise SaveError(f"the saved game is damaged ({type(exc).__name__}: {exc})") from None


def _restore_game(cls: type[Game], story: Story, data: Any, record: bool) -> Game:
    if not isinstance(data, dict):
        raise SaveError("the saved game is not a JSON object")
    if data.get("version") != STATE_VERSION:
        raise SaveError(f"the saved game has state version {data.get('version')!r}; this game reads {STATE_VERSION}")
    game = cls.__new__(cls)
    game.story = story
    game.record = record
    game._char_ids = story.char_index
    game._undo = deque(maxlen=UNDO_LIMIT if record else 0)
    game.notices = []

    def node_index(node_id: Any, what: str) -> int:
        if not isinstance(node_id, str) or node_id not in story.node_index:
            raise SaveError(f"the saved {what} '{node_id}' no longer exists in this story")
        return story.node_index[node_id]

    def whole(value: Any, what: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise SaveError(f"the saved {what} is not a whole number")
        return value

    game.seed = whole(data["seed"], "seed") & _MASK
    game.rng = whole(data["rng"], "random state") & _MASK
    game.turn = whole(data["turn"], "turn")
    game.node = node_index(data["node"], "passage")
    game.hub = node_index(data["hub"], "hub") if data.get("hub") is not None else -1
    values = [var.initial for var in story.variables]
    saved_vars = data["vars"]
    if not isinstance(saved_vars, dict):
        raise SaveError("the saved variables are not a JSON object")
    for name, value in saved_vars.items():
        slot = story.var_index.get(name)
        if slot is None:
            continue  # a variable the story no longer has
        var = story.variables[slot]
        if var.type == "int":
            value = whole(value, f"value of {name}")
            if not var.min <= value <= var.max:
                raise SaveError(f"the saved value of {name} ({value}) is outside {var.min}..{var.max}")
        elif var.type == "bool":
            if not isinstance(value, bool):
                raise SaveError(f"the saved value of {name} is not true or false")
        elif value not in var.values:
            raise SaveError(f"the saved value of {name} ({value!r}) is not one of {', '.join(var.values)}")
        values[slot] = value
    game.v = values
    game.visits = [0] * len(story.nodes)
    for node_id, n in data["visits"].items():
        if node_id in story.node_index:
            game.visits[story.node_index[node_id]] = whole(n, "visit count")
    game.passage = [str(p) for p in data["passage"]]
    node = story.node_at(game.node)
    game.options = []
    for i, o in enumerate(data["options"]):
        ref = o["ref"]
        if not isinstance(ref, str) or len(ref) < 2:
            raise SaveError("a saved choice is damaged")
        if ref[0] == "c":
            ch = node.choices[int(ref[1:])]
        elif ref[0] == "e":
            ev_node = story.node_at(int(ref[1:]))
            if ev_node.event is None:
                raise SaveError("a saved choice refers to an event that no longer exists")
            ch = ev_node.event.choice
        else:
            raise SaveError("a saved choice is damaged")
        game.options.append(Option(i, str(o["text"]), bool(o["enabled"]), str(o["reason"]), str(o["cost"]), ch, ref))
    game.once_used = set()
    for key in data["once_used"]:
        node_id, _, idx = str(key).rpartition("#")
        if node_id in story.node_index and idx.isdigit():
            game.once_used.add(choice_uid(story.node_index[node_id], int(idx)))
    game.ev_count, game.ev_last, game.ev_forced = {}, {}, {}
    for node_id, (count, last, forced) in data["events"].items():
        if node_id not in story.node_index:
            continue
        i = story.node_index[node_id]
        game.ev_count[i] = whole(count, "event count")
        if last is not None:
            game.ev_last[i] = whole(last, "event turn")
        if forced is not None:
            game.ev_forced[i] = whole(forced, "event turn")
    endings = {e.id: e for e in story.endings}
    game.char_endings = {}
    for char_id, eid in data["character_endings"].items():
        if char_id in game._char_ids and eid in endings:
            game.char_endings[game._char_ids[char_id]] = eid
    game.ending = None
    if data.get("ending") is not None:
        if data["ending"] not in endings:
            raise SaveError(f"the saved ending '{data['ending']}' no longer exists in this story")
        game.ending = endings[data["ending"]]
    game.outcomes = [(whole(t, "turn"), str(e)) for t, e in data["outcomes"]]
    tracked_names = data.get("tracked", [])
    current = [story.variables[s].name for s in story.tracked]
    game.history = []
    for turn, vals in data["history"]:
        saved = dict(zip(tracked_names, vals, strict=False))
        game.history.append((whole(turn, "turn"), tuple(saved.get(n, story.variable(n).initial) for n in current)))
    game.log = [whole(i, "choice") for i in data["log"]]
    game.transcript = [(str(k), str(t)) for k, t in data["transcript"]]
    if game.ending is None and not game.options:
        raise SaveError("the saved game has no choices to continue from")
    return game
