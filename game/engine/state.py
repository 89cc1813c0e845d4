"""The state of a game in progress: one typed value.

`State` holds everything a game's play changes, and nothing else (the story, and how the game
is played, belong to `Game`). Each field says in its metadata how it is kept, and everything
that handles state is derived from that:

- `undo`: how an undo snapshot keeps it. "copy" (the default) keeps a copy of the value;
  "trail" is for visit counts, which a snapshot never copies: the nodes the choice entered are
  counted back instead; "append" is for a list that only grows, cut back to its old length;
  "same" is for a value that is replaced, never changed in place, kept as it is.
- `save`: how a save writes it and reads it back: a `Codec`, or None for a field that is not
  saved. Without one, a whole number saved under the field's own name.
- `key`: whether it can change what happens next; `key()` compares those, and the search
  merges states whose keys are equal.

So a new field is one line here, with its metadata when the defaults don't fit.

The state is also what a story's compiled conditions, effects and text read: `v` (the
variables by slot), `visits`, `turn`, `char_endings`, and the random numbers of `random()` and
`randint()`.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable
from dataclasses import MISSING, dataclass, field, fields
from operator import attrgetter
from typing import Any, NamedTuple, Protocol

from .errors import SaveError
from .story import MAX_CHOICES_PER_NODE, Choice, Ending, Node, Story, choice_uid

STATE_VERSION = 1
MASK = (1 << 64) - 1


class Chance(Protocol):
    """Where a game's random outcomes come from, when not from its own seeded generator."""

    def random(self) -> float: ...
    def randint(self, lo: int, hi: int) -> int: ...
    def weighted(self, weights: list[float]) -> int: ...


class Option:
    """One choice as the player sees it now."""

    __slots__ = ("index", "text", "enabled", "reason", "cost", "choice")

    def __init__(self, index: int, text: str, enabled: bool, reason: str, cost: str, choice: Choice) -> None:
        self.index = index
        self.text = text
        self.enabled = enabled
        self.reason = reason
        self.cost = cost
        self.choice = choice

    @property
    def ref(self) -> str:
        """The choice's key (see `Choice.ref`): how a save finds it again."""
        return self.choice.ref

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
        if (
            isinstance(self.new, bool)
            or isinstance(self.old, bool)
            or not isinstance(self.new, int | float)
            or not isinstance(self.old, int | float)
            or self.new == self.old
        ):
            return None
        return (self.new > self.old) == (self.better != "lower")

    def __str__(self) -> str:
        who = f"{self.character}: " if self.character else ""
        if isinstance(self.new, bool) or isinstance(self.old, str) or isinstance(self.new, str):
            return f"{who}{self.label}: {self.new}"
        delta = self.new - self.old
        return f"{who}{self.label} {delta:+d}"


class Codec(NamedTuple):
    """How a field is written in a save (`dump`: the entries it adds, from the state) and read
    back (`load`: its value, from the whole saved data, with the fields before it already read
    into the state)."""

    dump: Callable[[Story, State], dict[str, Any]]
    load: Callable[[Story, dict[str, Any], State], Any]


def _keep(undo: str = "copy", save: Codec | None | bool = True, key: bool = True) -> dict[str, Any]:
    return {"undo": undo, "save": save, "key": key}


# -- reading saved values (each problem named precisely) -----------------------------------
def whole(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise SaveError(f"the saved {what} is not a whole number")
    return value


def _node(story: Story, node_id: Any, what: str) -> int:
    if not isinstance(node_id, str) or node_id not in story.node_index:
        raise SaveError(f"the saved {what} '{node_id}' no longer exists in this story")
    return story.node_index[node_id]


def _json_object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise SaveError(f"the saved {what} are not a JSON object")
    return value


def _load_vars(story: Story, data: dict[str, Any], _s: State) -> list[Any]:
    values = [var.initial for var in story.variables]
    for name, value in _json_object(data["vars"], "variables").items():
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
    return values


def _load_visits(story: Story, data: dict[str, Any], _s: State) -> array[int]:
    visits = story.zero_visits[:]
    for node_id, n in _json_object(data["visits"], "visit counts").items():
        if node_id in story.node_index:
            visits[story.node_index[node_id]] = whole(n, "visit count")
    return visits


def _once_key(story: Story, uid: int) -> str:
    node = uid // MAX_CHOICES_PER_NODE
    ch = next(c for c in story.node_at(node).choices if c.uid == uid)
    return f"{story.node_ids[node]}#{ch.ref}"


def _load_once(story: Story, data: dict[str, Any], _s: State) -> set[int]:
    used = set()
    for key in data["once_used"]:
        node_id, _, which = str(key).rpartition("#")
        if node_id not in story.node_index:
            continue  # a node the story no longer has
        index = story.node_index[node_id]
        if which.isdigit():  # saved by place, before choices had keys
            used.add(choice_uid(index, int(which)))
            continue
        uid = next((c.uid for c in story.node_at(index).choices if c.ref == which), None)
        if uid is not None:
            used.add(uid)
    return used


def _dump_events(story: Story, s: State) -> dict[str, Any]:
    nodes = story.node_ids
    return {
        "events": {
            nodes[i]: [s.ev_count.get(i, 0), s.ev_last.get(i), s.ev_forced.get(i)]
            for i in sorted(set(s.ev_count) | set(s.ev_last) | set(s.ev_forced))
        }
    }


def _load_events(story: Story, data: dict[str, Any], s: State) -> dict[int, int]:
    # The three event fields are saved together, under "events", by this codec.
    count: dict[int, int] = {}
    s.ev_last, s.ev_forced = {}, {}
    for node_id, entry in _json_object(data["events"], "events").items():
        if node_id not in story.node_index:
            continue
        n, last, forced = entry
        i = story.node_index[node_id]
        count[i] = whole(n, "event count")
        if last is not None:
            s.ev_last[i] = whole(last, "event turn")
        if forced is not None:
            s.ev_forced[i] = whole(forced, "event turn")
    return count


def _load_char_endings(story: Story, data: dict[str, Any], _s: State) -> dict[int, str]:
    endings = {e.id for e in story.endings}
    out = {}
    for char_id, eid in _json_object(data["character_endings"], "character endings").items():
        if char_id in story.char_index and eid in endings:
            out[story.char_index[char_id]] = eid
    return out


def _load_ending(story: Story, data: dict[str, Any], _s: State) -> Ending | None:
    eid = data.get("ending")
    if eid is None:
        return None
    found = next((e for e in story.endings if e.id == eid), None)
    if found is None:
        raise SaveError(f"the saved ending '{eid}' no longer exists in this story")
    return found


def _load_history(story: Story, data: dict[str, Any], _s: State) -> list[tuple[int, tuple[Any, ...]]]:
    tracked_names = data.get("tracked", [])
    current = [story.variables[s].name for s in story.tracked]
    history = []
    for turn, vals in data["history"]:
        saved = dict(zip(tracked_names, vals, strict=False))
        history.append((whole(turn, "turn"), tuple(saved.get(n, story.variable(n).initial) for n in current)))
    return history


def _load_options(story: Story, data: dict[str, Any], s: State) -> list[Option]:
    """The saved choices on offer, each found by its key: every label keeps its own target, or
    the save is refused because the passage changed. An event a hub offered that the story no
    longer has is left out (a hub's events come and go), as long as something can be chosen."""
    saved = data["options"]
    if not isinstance(saved, list):
        raise SaveError("the saved choices are damaged")
    node = story.node_at(s.node)
    by_key = {ch.ref: ch for ch in node.choices}
    options: list[Option] = []
    for o in saved:
        if not isinstance(o, dict):
            raise SaveError("a saved choice is damaged")
        key = o.get("key", o.get("ref"))
        if not isinstance(key, str) or len(key) < 2:
            raise SaveError("a saved choice is damaged")
        text = str(o["text"])
        ch = _find_choice(story, node, by_key, key, text)
        if ch is not None:
            options.append(
                Option(len(options), text, bool(o["enabled"]), str(o["reason"]), str(o["cost"]), ch)
            )
    return options


def _find_choice(story: Story, node: Node, by_key: dict[str, Choice], key: str, text: str) -> Choice | None:
    changed = SaveError(
        f"the passage '{node.id}' has changed since this was saved: "
        f"the choice '{text}' is no longer there as it was"
    )
    if key.startswith("c:"):
        ch = by_key.get(key)
        if ch is None:
            raise changed
        return ch
    if key.startswith("e:"):
        index = story.node_index.get(key[2:])
        event = story.node_at(index).event if index is not None else None
        return event.choice if event is not None else None
    # Saved by place, before choices had keys: taken only if the label is still the same.
    kind, place = key[0], key[1:]
    if not place.isdigit() or kind not in "ce":
        raise SaveError("a saved choice is damaged")
    if kind == "c":
        if int(place) >= len(node.choices):
            raise changed
        ch = node.choices[int(place)]
    else:
        if int(place) >= len(story.nodes) or story.node_at(int(place)).event is None:
            return None
        ch = story.node_at(int(place)).event.choice  # type: ignore[union-attr]
    if ch.const_text is not None and ch.const_text != text:
        raise changed
    return ch


def _node_codec(name: str, what: str) -> Codec:
    return Codec(
        lambda story, s: {name: story.node_ids[getattr(s, name)]},
        lambda story, data, _s: _node(story, data[name], what),
    )


_SEED = Codec(
    lambda _story, s: {"seed": s.seed},
    lambda _story, data, _s: whole(data["seed"], "seed") & MASK,
)
_RNG = Codec(
    lambda _story, s: {"rng": s.rng},
    lambda _story, data, _s: whole(data["rng"], "random state") & MASK,
)
_HUB = Codec(
    lambda story, s: {"hub": story.node_ids[s.hub] if s.hub >= 0 else None},
    lambda story, data, _s: _node(story, data["hub"], "hub") if data.get("hub") is not None else -1,
)
_VARS = Codec(lambda story, s: {"vars": {var.name: s.v[var.slot] for var in story.variables}}, _load_vars)
_VISITS = Codec(
    lambda story, s: {"visits": {story.node_ids[i]: n for i, n in enumerate(s.visits) if n}},
    _load_visits,
)
_PASSAGE = Codec(
    lambda _story, s: {"passage": list(s.passage)}, lambda _story, data, _s: [str(p) for p in data["passage"]]
)
_OPTIONS = Codec(
    lambda _story, s: {
        "options": [
            {"key": o.ref, "text": o.text, "enabled": o.enabled, "reason": o.reason, "cost": o.cost}
            for o in s.options
        ]
    },
    _load_options,
)
_ONCE = Codec(
    lambda story, s: {"once_used": sorted(_once_key(story, uid) for uid in s.once_used)}, _load_once
)
_SAVED_WITH_EVENTS = Codec(lambda _story, _s: {}, lambda _story, _data, s: s.ev_last)
_CHAR_ENDINGS = Codec(
    lambda story, s: {"character_endings": {story.characters[c].id: e for c, e in s.char_endings.items()}},
    _load_char_endings,
)
_ENDING = Codec(lambda _story, s: {"ending": s.ending.id if s.ending is not None else None}, _load_ending)
_OUTCOMES = Codec(
    lambda _story, s: {"outcomes": [list(o) for o in s.outcomes]},
    lambda _story, data, _s: [(whole(t, "turn"), str(e)) for t, e in data["outcomes"]],
)
_HISTORY = Codec(
    lambda story, s: {
        "history": [[turn, list(values)] for turn, values in s.history],
        "tracked": [story.variables[slot].name for slot in story.tracked],
    },
    _load_history,
)
_LOG = Codec(
    lambda _story, s: {"log": list(s.log)}, lambda _story, data, _s: [whole(i, "choice") for i in data["log"]]
)
_TRANSCRIPT = Codec(
    lambda _story, s: {"transcript": [list(x) for x in s.transcript]},
    lambda _story, data, _s: [(str(k), str(t)) for k, t in data["transcript"]],
)


@dataclass(slots=True, eq=False)
class State:
    """Everything that changes as a game is played (see the module's notes on the metadata)."""

    seed: int = field(default=0, metadata=_keep(save=_SEED, key=False))
    rng: int = field(default=0, metadata=_keep(save=_RNG))
    turn: int = 0
    node: int = field(default=0, metadata=_keep(save=_node_codec("node", "passage")))
    hub: int = field(default=-1, metadata=_keep(save=_HUB))
    v: list[Any] = field(default_factory=list, metadata=_keep(save=_VARS))
    # A count per node (an array of machine integers: made in one copy, and nothing for the
    # garbage collector to look through).
    visits: array[int] = field(default_factory=lambda: array("q"), metadata=_keep(undo="trail", save=_VISITS))
    passage: list[str] = field(default_factory=list, metadata=_keep(undo="same", save=_PASSAGE, key=False))
    options: list[Option] = field(default_factory=list, metadata=_keep(undo="same", save=_OPTIONS, key=False))
    once_used: set[int] = field(default_factory=set, metadata=_keep(save=_ONCE))
    ev_count: dict[int, int] = field(
        default_factory=dict, metadata=_keep(save=Codec(_dump_events, _load_events))
    )
    ev_last: dict[int, int] = field(default_factory=dict, metadata=_keep(save=_SAVED_WITH_EVENTS))
    ev_forced: dict[int, int] = field(
        default_factory=dict,
        metadata=_keep(save=Codec(lambda _story, _s: {}, lambda _story, _d, s: s.ev_forced)),
    )
    fired: int = field(default=0, metadata=_keep(key=False))  # forced events fired so far
    char_endings: dict[int, str] = field(default_factory=dict, metadata=_keep(save=_CHAR_ENDINGS))
    ending: Ending | None = field(default=None, metadata=_keep(save=_ENDING))
    outcomes: list[tuple[int, str]] = field(
        default_factory=list, metadata=_keep(undo="append", save=_OUTCOMES, key=False)
    )
    history: list[tuple[int, tuple[Any, ...]]] = field(
        default_factory=list, metadata=_keep(undo="append", save=_HISTORY, key=False)
    )
    log: list[int] = field(default_factory=list, metadata=_keep(undo="append", save=_LOG, key=False))
    transcript: list[tuple[str, str]] = field(
        default_factory=list, metadata=_keep(undo="append", save=_TRANSCRIPT, key=False)
    )
    notices: list[Notice] = field(default_factory=list, metadata=_keep(undo="same", save=None, key=False))
    # For automated play: the choices on offer, and the indices of the enabled ones.
    opts: list[Choice] = field(default_factory=list, metadata=_keep(undo="same", save=None))
    live: list[int] = field(default_factory=list, metadata=_keep(undo="same", save=None))
    # Where random outcomes come from instead of `rng`, if anywhere (a search scripts them).
    chance: Chance | None = field(default=None, repr=False, metadata=_keep(undo="same", save=None, key=False))

    # -- random numbers (splitmix64: tiny state, same on every platform) -----------------
    def random(self) -> float:
        """A float in [0, 1) from the game's generator."""
        if self.chance is not None:
            return self.chance.random()
        s = (self.rng + 0x9E3779B97F4A7C15) & MASK
        self.rng = s
        z = ((s ^ (s >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return ((z ^ (z >> 31)) >> 11) * (1.0 / 9007199254740992.0)

    def randint(self, lo: int, hi: int) -> int:
        """A whole number from lo to hi inclusive."""
        if self.chance is not None:
            return self.chance.randint(lo, hi)
        if hi < lo:
            lo, hi = hi, lo
        return lo + int(self.random() * (hi - lo + 1))

    def weighted(self, weights: list[float]) -> int:
        """An index picked with the given weights; -1 when they are all zero."""
        if self.chance is not None:
            return self.chance.weighted(weights)
        total = sum(weights)
        if total <= 0:
            return -1
        r = self.random() * total
        for i, w in enumerate(weights):
            r -= w
            if r < 0 and w > 0:
                return i
        return max(i for i, w in enumerate(weights) if w > 0)

    # -- derived from the fields' metadata -----------------------------------------------
    def copy(self) -> State:
        """An independent copy (its containers copied; the story's objects shared)."""
        return State(**{name: _copied(getattr(self, name)) for name in FIELD_NAMES})

    def key(self) -> tuple[Any, ...]:
        """What can change what happens next, hashable: equal keys, the same game from here."""
        return tuple(frozen(getattr(self, name)) for name in KEYED)

    def snapshot(self) -> list[Any]:
        """What undo needs to come back here: see `undo` in the module's notes. Its trail (the
        nodes entered since) is `snapshot[TRAIL]`, for the game to fill in."""
        snap = list(_ALL(self))  # every field at once; then the containers copied, lists measured
        for i in _COPIED:
            snap[i] = snap[i].copy()
        for i in _MEASURED:
            snap[i] = len(snap[i])
        snap[TRAIL] = []
        return snap

    def restore(self, snap: list[Any]) -> None:
        """Come back to a snapshot (and to the visit counts before its trail)."""
        for (name, kind), value in zip(_UNDO, snap, strict=True):
            if kind == "trail":
                counts = getattr(self, name)
                for node in value:
                    counts[node] -= 1
            elif kind == "append":
                del getattr(self, name)[value:]
            else:
                setattr(self, name, value)

    def to_save(self, story: Story) -> dict[str, Any]:
        """The state as JSON-ready data."""
        data: dict[str, Any] = {"version": STATE_VERSION}
        for _name, codec in _SAVED:
            data.update(codec.dump(story, self))
        return data

    @classmethod
    def from_save(cls, story: Story, data: Any) -> State:
        """The state a save holds; SaveError says precisely what doesn't fit."""
        if not isinstance(data, dict):
            raise SaveError("the saved game is not a JSON object")
        if data.get("version") != STATE_VERSION:
            raise SaveError(
                f"the saved game has state version {data.get('version')!r}; this game reads {STATE_VERSION}"
            )
        s = cls()
        for name, codec in _SAVED:
            setattr(s, name, codec.load(story, data, s))
        return s


def _int_codec(name: str, default: int) -> Codec:
    # A whole number saved under its own name; a save from before it existed gets the default.
    return Codec(
        lambda _story, s: {name: getattr(s, name)},
        lambda _story, data, _s: whole(data.get(name, default), name),
    )


def _copied(value: Any) -> Any:
    if isinstance(value, array):
        return value[:]
    return value.copy() if isinstance(value, list | dict | set) else value


def frozen(value: Any) -> Any:
    """A hashable form of a value: containers become tuples and frozensets."""
    if isinstance(value, list):
        return tuple(frozen(x) for x in value)
    if isinstance(value, array):
        return tuple(value)
    if isinstance(value, set):
        return frozenset(value)
    if isinstance(value, dict):
        return frozenset(value.items())
    return value


FIELD_NAMES = tuple(f.name for f in fields(State))
KEYED = tuple(f.name for f in fields(State) if f.metadata.get("key", True))
_UNDO = tuple((f.name, f.metadata.get("undo", "copy")) for f in fields(State))
# A snapshot copies containers (the fields made by a factory); a number or an ending is kept.
_ALL = attrgetter(*FIELD_NAMES)
_COPIED = tuple(
    i
    for i, (f, (_name, kind)) in enumerate(zip(fields(State), _UNDO, strict=True))
    if kind == "copy" and f.default_factory is not MISSING
)
_MEASURED = tuple(i for i, (_name, kind) in enumerate(_UNDO) if kind == "append")
TRAIL = next(i for i, (_name, kind) in enumerate(_UNDO) if kind == "trail")
_SAVED = tuple(
    (
        f.name,
        f.metadata["save"]
        if isinstance(f.metadata.get("save", True), Codec)
        else _int_codec(f.name, f.default if isinstance(f.default, int) else 0),
    )
    for f in fields(State)
    if f.metadata.get("save", True) is not None
)
