"""Reading a story folder: YAML to a checked, resolved, cacheable plain-data form (the IR).

Every problem is collected, with its file, line and column, before anything is given up, so an
author sees all their mistakes in one run. The IR holds only built-in types (dicts, lists,
tuples, strings, numbers), which is what makes the compiled-story cache safe and fast.
"""

from __future__ import annotations

import fnmatch
import os
import re
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from . import expr as ex
from . import yamlsrc
from .errors import Problem
from .files import kind_of
from .ir import IRChoice, IREnding, IREvent, IRHub, IRNode
from .yamlsrc import Map, Seq, YamlProblem

HUB, END_TURN = -1, -2
BUILT_IN_STRATEGIES = frozenset({"random", "first", "novel"})
CHOICE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
SPECIAL_TARGETS = {"<hub>": HUB, "<end-turn>": END_TURN}
MAX_NODES = 100_000
MAX_TEXT = 20_000
MAX_FILES = 2_000
MAX_ENTRIES = 20_000
INT_LIMIT = 1_000_000_000

_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_SCENE_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*\Z")
_PARAGRAPHS = re.compile(r"\n[ \t]*\n")
_DISPLAYS = ("bar", "number", "text", "hidden")
_BETTER = ("higher", "lower")

STORY_KEYS = {
    "id",
    "title",
    "start",
    "about",
    "variables",
    "characters",
    "character_variables",
    "turns",
    "playtest",
}
ABOUT_KEYS = {"author", "description", "disclaimer", "content_notes", "version"}
VAR_KEYS = {
    "type",
    "initial",
    "min",
    "max",
    "values",
    "label",
    "group",
    "display",
    "track",
    "description",
    "unit",
    "better",
}
CHAR_KEYS = {"name", "description", "initial"}
TURN_KEYS = {"counter", "budget", "refill", "hub", "end_of_turn"}
SCENE_KEYS = {"scene", "character", "characters", "nodes", "variables", "end_of_turn", "title"}
NODE_KEYS = {
    "text",
    "effects",
    "choices",
    "goto",
    "random",
    "branch",
    "ending",
    "hub",
    "event",
    "title",
}
CHOICE_KEYS = {"id", "text", "if", "reason", "cost", "effects", "goto", "once", "fallback"}
RANDOM_KEYS = {"weight", "effects", "goto"}
BRANCH_KEYS = {"if", "effects", "goto"}
ENDING_KEYS = {"id", "title", "category", "character"}
HUB_KEYS = {"tags", "limit"}
EVENT_KEYS = {
    "title",
    "if",
    "reason",
    "cost",
    "priority",
    "weight",
    "once",
    "cooldown",
    "forced",
    "tags",
}
TEXT_ITEM_KEYS = {"if", "text", "else", "sequence", "cycle", "shuffle"}
EFFECT_BLOCK_KEYS = {"if", "then", "else"}


def _type_name(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


class _Source:
    """One file being checked: records problems at positions within it."""

    def __init__(self, rel: str, problems: list[Problem]) -> None:
        self.rel = rel
        self.problems = problems

    def error(self, line: int, col: int, message: str) -> None:
        self.problems.append(Problem(self.rel, line, col, message))

    def warn(self, line: int, col: int, message: str) -> None:
        self.problems.append(Problem(self.rel, line, col, message, "warning"))

    def at_key(self, m: Map, key: str) -> tuple[int, int]:
        p = m.pos.get(key)
        return (p[0], p[1]) if p else (m.line, m.col)

    def at_value(self, container: Any, key: Any) -> tuple[int, int, str | None]:
        if isinstance(container, Map):
            p = container.pos.get(key)
            return (p[2], p[3], p[4]) if p else (container.line, container.col, None)
        if isinstance(container, Seq) and isinstance(key, int) and key < len(container.pos):
            return container.pos[key]
        return (getattr(container, "line", 1), getattr(container, "col", 1), None)

    def check_keys(self, m: Map, allowed: set[str], what: str, required: Iterable[str] = ()) -> bool:
        ok = True
        for key in m:
            if key not in allowed:
                guess = ex.did_you_mean(key, sorted(allowed))
                hint = f"; did you mean '{guess}'?" if guess else ""
                self.error(*self.at_key(m, key), f"unknown key '{key}' in {what}{hint}")
                ok = False
        for key in required:
            if key not in m:
                self.error(m.line, m.col, f"{what} needs '{key}'")
                ok = False
        return ok

    def want(self, container: Any, key: Any, kinds: tuple[type, ...], what: str) -> bool:
        value = container[key]
        if isinstance(value, bool) and bool not in kinds:
            good = False
        else:
            good = isinstance(value, kinds)
        if not good:
            names = {
                str: "text",
                int: "a whole number",
                float: "a number",
                bool: "true or false",
                Map: "a mapping",
                Seq: "a list",
            }
            want = " or ".join(dict.fromkeys(names.get(k, k.__name__) for k in kinds))
            line, col, _ = self.at_value(container, key)
            self.error(line, col, f"{what} must be {want}, not {_type_name(value)}")
        return good


class _Scope:
    """Resolves names in expressions for one scene, and remembers what was used."""

    def __init__(
        self,
        vars_by_name: dict[str, ex.VarInfo],
        constants: dict[str, str],
        node_index: dict[str, int],
        characters: dict[str, int],
    ) -> None:
        self.vars = vars_by_name
        self.by_slot = {info.slot: info for info in vars_by_name.values()}
        self.constants = constants
        self.node_index = node_index
        self.characters = characters
        self.scene = ""
        self.read: set[int] = set()
        self.written: set[int] = set()
        self.visited_nodes: set[int] = set()
        self._memo: dict[tuple[str, str, str], Any] = {}

    def parse(self, kind: str, src: str) -> Any:
        """Parse an expression or assignment, reusing the result for repeated sources."""
        key = (kind, self.scene if ("visited" in src or "ended" in src) else "", src)
        hit = self._memo.get(key)
        if hit is not None:
            result, read, written = hit
            self.read.update(read)
            self.written.update(written)
            return result
        outer_read, outer_written = self.read, self.written
        self.read, self.written = set(), set()
        try:
            result = ex.parse_assignment(src, self) if kind == "set" else ex.parse(src, self)
        finally:
            read, written = self.read, self.written
            self.read, self.written = outer_read | read, outer_written | written
        self._memo[key] = (result, read, written)
        return result

    def variable(self, name: str, write: bool = False) -> ex.VarInfo | None:
        info = self.vars.get(name)
        if info is not None:
            (self.written if write else self.read).add(info.slot)
        return info

    def slot_info(self, slot: int) -> ex.VarInfo | None:
        return self.by_slot.get(slot)

    def constant(self, name: str) -> str | None:
        return self.constants.get(name)

    def resolve_node(self, ref: str) -> str:
        return ref if "." in ref else f"{self.scene}.{ref}"

    def node(self, ref: str) -> int | None:
        index = self.node_index.get(self.resolve_node(ref))
        if index is not None:
            self.visited_nodes.add(index)
        return index

    def character(self, name: str) -> int | None:
        return self.characters.get(name)

    def suggest(self, name: str, kind: str) -> str | None:
        if kind == "variable":
            return ex.did_you_mean(name, list(self.vars) + list(self.constants))
        if kind == "character":
            return ex.did_you_mean(name, list(self.characters))
        if kind == "node":
            full = self.resolve_node(name)
            local = [n.rsplit(".", 1)[1] for n in self.node_index if n.rsplit(".", 1)[0] == self.scene]
            guess = ex.did_you_mean(name, local) if "." not in name else None
            return guess or ex.did_you_mean(full, list(self.node_index))
        return None


class _Builder:
    """Checks a whole story and builds its IR."""

    def __init__(self, root: Path, files: list[tuple[str, bytes]]) -> None:
        self.root = root
        self.files = files
        self.problems: list[Problem] = []
        self.vars: list[dict[str, Any]] = []
        self.vars_by_name: dict[str, ex.VarInfo] = {}
        self.var_src: list[tuple[str, int, int]] = []
        self.characters: list[dict[str, Any]] = []
        self.char_index: dict[str, int] = {}
        self.constants: dict[str, str] = {}
        self.node_ids: dict[str, int] = {}
        self.node_src: list[tuple[str, int, int]] = []
        self.ending_ids: dict[str, tuple[str, int, int]] = {}
        self.char_initial: dict[str, tuple[_Source, Map]] = {}
        self.char_src: list[tuple[str, int]] = []

    # -- entry point ---------------------------------------------------------------------
    def build(self) -> dict[str, Any] | None:
        docs: list[tuple[_Source, Any]] = []
        story_doc: tuple[_Source, Any] | None = None
        for rel, data in self.files:
            src = _Source(rel, self.problems)
            notes: list[YamlProblem] = []
            try:
                doc = yamlsrc.read(data, notes)
            except YamlProblem as exc:
                src.error(exc.line, exc.column, exc.message)
                doc = None
            for note in notes:
                (src.error if note.severity == "error" else src.warn)(note.line, note.column, note.message)
            if doc is None:
                continue
            if not isinstance(doc, Map):
                src.error(
                    getattr(doc, "line", 1),
                    getattr(doc, "col", 1),
                    f"a story file must be a mapping of keys, not {_type_name(doc)}",
                )
                continue
            if Path(rel).name == "story.yaml" and "/" not in rel.replace("\\", "/"):
                story_doc = (src, doc)
            else:
                docs.append((src, doc))
        if story_doc is None:
            if not any(Path(rel).name == "story.yaml" for rel, _ in self.files):
                self.problems.append(Problem("story.yaml", 1, 1, "the story folder has no story.yaml"))
            return None
        src, story = story_doc
        src.check_keys(story, STORY_KEYS, "story.yaml", required=("id", "title", "start"))
        for key in ("id", "title", "start"):
            if key in story:
                src.want(story, key, (str,), f"'{key}'")
        self._characters(src, story)
        for ssrc, doc in docs:
            # A case folder can bring its own people: they join before any variable is
            # declared, so character_variables give them a set each like everyone else.
            if "characters" in doc:
                self._characters(ssrc, doc)
        if "variables" in story and src.want(story, "variables", (Map,), "'variables'"):
            self._declare_vars(src, story["variables"], None)
        if "character_variables" in story and src.want(
            story, "character_variables", (Map,), "'character_variables'"
        ):
            self._declare_vars(src, story["character_variables"], "character")
        self._check_character_initials()
        scenes: list[tuple[_Source, Map, str, int | None]] = []
        for ssrc, doc in docs:
            ssrc.check_keys(doc, SCENE_KEYS, "a scene file", required=("nodes",))
            scene = self._scene_id(ssrc, doc)
            char = None
            if "character" in doc and ssrc.want(doc, "character", (str,), "'character'"):
                char = self.char_index.get(doc["character"])
                if char is None:
                    guess = ex.did_you_mean(doc["character"], list(self.char_index))
                    hint = f"; did you mean '{guess}'?" if guess else ""
                    ssrc.error(
                        *ssrc.at_value(doc, "character")[:2], f"unknown character '{doc['character']}'{hint}"
                    )
            if "variables" in doc and ssrc.want(doc, "variables", (Map,), "'variables'"):
                self._declare_vars(ssrc, doc["variables"], None, case=char)
            if scene is not None:
                scenes.append((ssrc, doc, scene, char))
        self._index_nodes(scenes)
        scope = _Scope(self.vars_by_name, self.constants, self.node_ids, self.char_index)
        self.scope = scope
        nodes: list[Any] = [None] * len(self.node_src)
        for ssrc, doc, scene, char in scenes:
            scope.scene = scene
            if isinstance(doc.get("nodes"), Map):
                for name, body in doc["nodes"].items():
                    full = f"{scene}.{name}"
                    index = self.node_ids.get(full)
                    if index is None or nodes[index] is not None:
                        continue
                    nodes[index] = self._node(ssrc, doc["nodes"], name, body, full, scene, char)
        # story-level references
        scope.scene = ""
        start = None
        if isinstance(story.get("start"), str):
            start = self._target(src, story, "start", allow_special=False)
        turns = self._turns(src, story) if "turns" in story else None
        end_of_turn: list[Any] = list(turns["end_of_turn"]) if turns else []
        for ssrc, doc, scene, _char in scenes:
            if "end_of_turn" in doc:
                scope.scene = scene
                if turns is None:
                    ssrc.error(
                        *ssrc.at_key(doc, "end_of_turn"),
                        "'end_of_turn' needs a 'turns' section in story.yaml",
                    )
                end_of_turn.extend(self._effects(ssrc, doc, "end_of_turn"))
        if turns is not None:
            turns["end_of_turn"] = end_of_turn
        about = self._about(src, story)
        playtest = self._playtest(src, story) if "playtest" in story else {}
        if any(p.severity == "error" for p in self.problems):
            return None
        ir = {
            "id": story["id"],
            "title": story["title"],
            "start": start,
            "about": about,
            "vars": self.vars,
            "characters": self.characters,
            "nodes": nodes,
            "turns": turns,
            "playtest": playtest,
        }
        self._warnings(ir)
        return ir

    # -- declarations ---------------------------------------------------------------------
    def _about(self, src: _Source, story: Map) -> dict[str, Any]:
        about: dict[str, Any] = {}
        if "about" not in story or not src.want(story, "about", (Map,), "'about'"):
            return about
        m = story["about"]
        src.check_keys(m, ABOUT_KEYS, "'about'")
        for key in ("author", "description", "disclaimer", "version"):
            if key in m and src.want(m, key, (str, int, float), f"'about.{key}'"):
                about[key] = str(m[key])
        if "content_notes" in m and src.want(m, "content_notes", (Seq,), "'content_notes'"):
            notes = []
            for i, item in enumerate(m["content_notes"]):
                if src.want(m["content_notes"], i, (str,), "a content note"):
                    notes.append(item)
            about["content_notes"] = notes
        return about

    def _playtest(self, src: _Source, story: Map) -> dict[str, Any]:
        """`playtest: {strategies: {NAME: SPEC}}`: strategies the story names for `iom playtest`
        (e.g. a player who prefers raising one variable, `prefer:NAME`), so no story word is in code."""
        out: dict[str, Any] = {"strategies": {}}
        if not src.want(story, "playtest", (Map,), "'playtest'"):
            return out
        m = story["playtest"]
        src.check_keys(m, {"strategies"}, "'playtest'")
        if "strategies" not in m or not src.want(m, "strategies", (Map,), "'playtest.strategies'"):
            return out
        for name, spec in m["strategies"].items():
            line, col = src.at_key(m["strategies"], name)
            if not _ID.match(name) or name in BUILT_IN_STRATEGIES:
                src.error(line, col, f"a playtest strategy needs a simple name of its own, not '{name}'")
                continue
            if not src.want(m["strategies"], name, (str,), f"strategy '{name}'"):
                continue
            kind, _, pattern = spec.partition(":")
            patterns = [p.strip() for p in pattern.split(",") if p.strip()]
            vline, vcol, _ = src.at_value(m["strategies"], name)
            if spec in BUILT_IN_STRATEGIES:
                out["strategies"][name] = spec
            elif kind not in ("prefer", "avoid") or not patterns:
                src.error(
                    vline,
                    vcol,
                    f"strategy '{name}' must be prefer:PATTERN, avoid:PATTERN, "
                    f"or one of {', '.join(sorted(BUILT_IN_STRATEGIES))}",
                )
            elif not any(
                fnmatch.fnmatchcase(v["name"], p) or fnmatch.fnmatchcase(v["base"], p)
                for v in self.vars
                for p in patterns
            ):
                src.error(vline, vcol, f"strategy '{name}' ({spec}) matches no variable")
            else:
                out["strategies"][name] = spec
        return out

    def _characters(self, src: _Source, story: Map) -> None:
        if "characters" not in story or not src.want(story, "characters", (Map,), "'characters'"):
            return
        chars = story["characters"]
        for cid, body in chars.items():
            line, col = src.at_key(chars, cid)
            if not _ID.match(cid):
                src.error(line, col, f"character id '{cid}' must be a simple name (letters, digits, _)")
                continue
            if cid in self.char_index:
                first = self.char_src[self.char_index[cid]]
                src.error(line, col, f"character '{cid}' is already declared ({first[0]}:{first[1]})")
                continue
            entry = {"id": cid, "name": cid.capitalize(), "description": ""}
            if isinstance(body, str):
                entry["name"] = body
            elif isinstance(body, Map):
                src.check_keys(body, CHAR_KEYS, f"character '{cid}'")
                for key in ("name", "description"):
                    if key in body and src.want(body, key, (str,), f"'{key}'"):
                        entry[key] = body[key]
                if "initial" in body and src.want(body, "initial", (Map,), "'initial'"):
                    self.char_initial[cid] = (src, body["initial"])
            elif body is not None:
                src.error(line, col, f"character '{cid}' must be a mapping, not {_type_name(body)}")
                continue
            self.char_index[cid] = len(self.characters)
            self.char_src.append((src.rel, line))
            self.characters.append(entry)
            self.constants[f"{cid}.name"] = entry["name"]

    def _declare_vars(self, src: _Source, decls: Map, per: str | None, case: int | None = None) -> None:
        """Declare variables; `per` makes one for each character, `case` is the character
        whose case they belong to (a scene file's `character`)."""
        for name, body in decls.items():
            line, col = src.at_key(decls, name)
            if not _ID.match(name):
                src.error(line, col, f"variable name '{name}' must be a simple name (letters, digits, _)")
                continue
            if name in ex.RESERVED:
                src.error(line, col, f"'{name}' is a reserved word and can't name a variable")
                continue
            if not isinstance(body, Map):
                src.error(
                    line,
                    col,
                    f"variable '{name}' must be a mapping such as {{type: int, initial: 0}}, not {_type_name(body)}",
                )
                continue
            decl = self._var_decl(src, name, body)
            if decl is None:
                continue
            targets = (
                [(name, None)]
                if per is None
                else [(f"{c['id']}.{name}", i) for i, c in enumerate(self.characters)]
            )
            for full, char in targets:
                if full in self.vars_by_name:
                    first = self.var_src[self.vars_by_name[full].slot]
                    src.error(line, col, f"variable '{full}' is already declared ({first[0]}:{first[1]})")
                    continue
                slot = len(self.vars)
                entry = dict(
                    decl, name=full, base=name, character=char, case=char if char is not None else case
                )
                if char is not None:
                    entry["initial"] = self._character_initial(self.characters[char]["id"], name, decl)
                self.vars.append(entry)
                self.var_src.append((src.rel, line, col))
                self.vars_by_name[full] = ex.VarInfo(slot, decl["type"], tuple(decl.get("values", ())))

    def _character_initial(self, cid: str, name: str, decl: dict[str, Any]) -> Any:
        """A character's own starting value for a character variable, checked like `initial`."""
        found = self.char_initial.get(cid)
        if found is None or name not in found[1]:
            return decl["initial"]
        src, m = found
        value = m[name]
        line, col, _ = src.at_value(m, name)
        if decl["type"] == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                src.error(line, col, f"'{cid}.{name}' starts as a whole number, not {_type_name(value)}")
            elif not decl["min"] <= value <= decl["max"]:
                src.error(line, col, f"initial value {value} is outside {decl['min']}..{decl['max']}")
            else:
                return value
        elif decl["type"] == "bool":
            if isinstance(value, bool):
                return value
            src.error(line, col, f"'{cid}.{name}' starts as true or false, not {_type_name(value)}")
        elif value in decl["values"]:
            return value
        else:
            src.error(line, col, f"initial value '{value}' is not one of {', '.join(decl['values'])}")
        return decl["initial"]

    def _check_character_initials(self) -> None:
        for cid, (src, m) in self.char_initial.items():
            for name in m:
                if f"{cid}.{name}" not in self.vars_by_name:
                    guess = ex.did_you_mean(
                        name, sorted({v["base"] for v in self.vars if v["character"] is not None})
                    )
                    hint = f"; did you mean '{guess}'?" if guess else ""
                    src.error(*src.at_key(m, name), f"'{name}' is not a character variable{hint}")

    def _var_decl(self, src: _Source, name: str, m: Map) -> dict[str, Any] | None:
        src.check_keys(m, VAR_KEYS, f"variable '{name}'", required=("type",))
        vtype = m.get("type")
        if vtype not in ("int", "bool", "enum"):
            if "type" in m:
                src.error(
                    *src.at_value(m, "type")[:2], f"variable type must be int, bool or enum, not {vtype!r}"
                )
            return None
        decl: dict[str, Any] = {
            "type": vtype,
            "label": name.replace("_", " ").capitalize(),
            "group": "",
            "display": "hidden",
            "track": False,
            "description": "",
            "unit": name.replace("_", " "),
            "min": -INT_LIMIT,
            "max": INT_LIMIT,
            "values": (),
            "better": "higher",
        }
        for key in ("label", "group", "description", "unit"):
            if key in m and src.want(m, key, (str,), f"'{key}'"):
                decl[key] = m[key]
        if "display" in m and src.want(m, "display", (str,), "'display'"):
            if m["display"] in _DISPLAYS:
                decl["display"] = m["display"]
            else:
                src.error(*src.at_value(m, "display")[:2], f"display must be one of {', '.join(_DISPLAYS)}")
        if "track" in m and src.want(m, "track", (bool,), "'track'"):
            decl["track"] = m["track"]
        if "better" in m and src.want(m, "better", (str,), "'better'"):
            if m["better"] in _BETTER:
                decl["better"] = m["better"]
            else:
                src.error(*src.at_value(m, "better")[:2], "better must be higher or lower")
        if vtype == "int":
            for key in ("min", "max"):
                if key in m and src.want(m, key, (int,), f"'{key}'"):
                    if abs(m[key]) > INT_LIMIT:
                        src.error(*src.at_value(m, key)[:2], f"'{key}' must be within ±{INT_LIMIT:,}")
                    else:
                        decl[key] = m[key]
            if decl["min"] > decl["max"]:
                src.error(m.line, m.col, f"variable '{name}' has min greater than max")
            initial = m.get("initial", max(decl["min"], min(decl["max"], 0)))
            if "initial" in m and not src.want(m, "initial", (int,), "'initial'"):
                initial = decl["min"]
            elif not decl["min"] <= initial <= decl["max"]:
                src.error(
                    *src.at_value(m, "initial")[:2],
                    f"initial value {initial} is outside {decl['min']}..{decl['max']}",
                )
            decl["initial"] = initial
        elif vtype == "bool":
            initial = m.get("initial", False)
            if "initial" in m and not src.want(m, "initial", (bool,), "'initial'"):
                initial = False
            decl["initial"] = initial
        else:
            values: list[str] = []
            if "values" not in m:
                src.error(m.line, m.col, f"enum variable '{name}' needs 'values'")
            elif src.want(m, "values", (Seq,), "'values'"):
                for i, v in enumerate(m["values"]):
                    if src.want(m["values"], i, (str,), "an enum value"):
                        if v in values:
                            src.error(*src.at_value(m["values"], i)[:2], f"value '{v}' is listed twice")
                        values.append(v)
            if not values:
                return None
            decl["values"] = tuple(values)
            initial = m.get("initial", values[0])
            if initial not in values:
                guess = ex.did_you_mean(str(initial), values)
                hint = f"; did you mean '{guess}'?" if guess else ""
                src.error(
                    *src.at_value(m, "initial")[:2],
                    f"initial value '{initial}' is not one of {', '.join(values)}{hint}",
                )
                initial = values[0]
            decl["initial"] = initial
        return decl

    def _scene_id(self, src: _Source, doc: Map) -> str | None:
        if "scene" in doc:
            if not src.want(doc, "scene", (str,), "'scene'"):
                return None
            scene = doc["scene"]
            if not _SCENE_ID.match(scene):
                src.error(
                    *src.at_value(doc, "scene")[:2],
                    f"scene id '{scene}' must be names joined by dots (letters, digits, _)",
                )
                return None
            return str(scene)
        parts = list(Path(src.rel).with_suffix("").parts)
        scene = ".".join(parts)
        if not _SCENE_ID.match(scene):
            src.error(1, 1, f"can't make a scene id from the file name '{src.rel}'; add 'scene: NAME'")
            return None
        return scene

    def _index_nodes(self, scenes: list[tuple[_Source, Map, str, int | None]]) -> None:
        for src, doc, scene, _char in scenes:
            nodes = doc.get("nodes")
            if nodes is None or not src.want(doc, "nodes", (Map,), "'nodes'"):
                continue
            for name in nodes:
                line, col = src.at_key(nodes, name)
                if not _ID.match(name):
                    src.error(line, col, f"node name '{name}' must be a simple name (letters, digits, _)")
                    continue
                full = f"{scene}.{name}"
                if full in self.node_ids:
                    first = self.node_src[self.node_ids[full]]
                    src.error(line, col, f"node '{full}' is already defined at {first[0]}:{first[1]}")
                    continue
                if len(self.node_src) >= MAX_NODES:
                    src.error(line, col, f"a story can have at most {MAX_NODES:,} nodes")
                    return
                self.node_ids[full] = len(self.node_src)
                self.node_src.append((src.rel, line, col))

    def _turns(self, src: _Source, story: Map) -> dict[str, Any] | None:
        if not src.want(story, "turns", (Map,), "'turns'"):
            return None
        m = story["turns"]
        src.check_keys(m, TURN_KEYS, "'turns'", required=("hub",))
        turns: dict[str, Any] = {
            "counter": None,
            "budget": None,
            "refill": None,
            "hub": None,
            "end_of_turn": [],
        }
        for key in ("counter", "budget"):
            if key in m and src.want(m, key, (str,), f"'turns.{key}'"):
                info = self.scope.variable(m[key], write=True)
                if info is None or info.type != "int":
                    guess = self.scope.suggest(m[key], "variable")
                    hint = f"; did you mean '{guess}'?" if guess else ""
                    src.error(*src.at_value(m, key)[:2], f"'turns.{key}' must name an int variable{hint}")
                else:
                    turns[key] = info.slot
        if "refill" in m:
            if turns["budget"] is None:
                src.error(*src.at_key(m, "refill"), "'refill' needs a 'budget' variable")
            turns["refill"] = self._expr(src, m, "refill", numeric=True)
        if "hub" in m and src.want(m, "hub", (str,), "'turns.hub'"):
            turns["hub"] = self._target(src, m, "hub", allow_special=False)
        if "end_of_turn" in m:
            turns["end_of_turn"] = self._effects(src, m, "end_of_turn")
        return turns

    # -- nodes ----------------------------------------------------------------------------
    def _node(
        self, src: _Source, parent: Map, name: str, body: Any, full: str, scene: str, char: int | None
    ) -> IRNode:
        line, col = src.at_key(parent, name)
        node: IRNode = {
            "id": full,
            "scene": scene,
            "file": src.rel,
            "line": line,
            "character": char,
            "title": None,
            "text": [],
            "effects": None,
            "choices": [],
            "nav": ("choices",),
            "ending": None,
            "hub": None,
            "event": None,
        }
        if not isinstance(body, Map):
            src.error(
                line, col, f"node '{name}' must be a mapping (text, choices, ...), not {_type_name(body)}"
            )
            return node
        src.check_keys(body, NODE_KEYS, f"node '{name}'")
        if "title" in body and src.want(body, "title", (str,), "'title'"):
            node["title"] = body["title"]
        if "text" in body:
            node["text"] = self._text(src, body, "text")
        if "effects" in body:
            node["effects"] = self._effects(src, body, "effects")
        ways = [k for k in ("choices", "goto", "random", "branch") if k in body]
        if len(ways) > 1:
            src.error(
                *src.at_key(body, ways[1]),
                f"node '{name}' has both '{ways[0]}' and '{ways[1]}'; use one way on",
            )
        if "choices" in body and src.want(body, "choices", (Seq,), "'choices'"):
            node["choices"] = [self._choice(src, body["choices"], i) for i in range(len(body["choices"]))]
            fallbacks = [c for c in node["choices"] if c and c["fallback"]]
            if len(fallbacks) > 1:
                src.error(line, col, f"node '{name}' has more than one fallback choice")
            seen_ids: set[str] = set()
            for c in node["choices"]:
                if c and c.get("id") is not None:
                    if c["id"] in seen_ids:
                        src.error(c["line"], col, f"node '{name}' has two choices with the id '{c['id']}'")
                    seen_ids.add(c["id"])
        elif "goto" in body and src.want(body, "goto", (str,), "'goto'"):
            node["nav"] = ("goto", self._target(src, body, "goto"))
        elif "random" in body and src.want(body, "random", (Seq,), "'random'"):
            node["nav"] = ("random", self._random(src, body["random"]))
        elif "branch" in body and src.want(body, "branch", (Seq,), "'branch'"):
            node["nav"] = ("branch", self._branch(src, body["branch"]))
        if "ending" in body:
            node["ending"] = self._ending(src, body, "ending")
            if node["ending"] and node["ending"]["character"] is None:
                if ways:
                    src.error(
                        *src.at_key(body, ways[0]),
                        f"node '{name}' ends the story, so it can't have '{ways[0]}'",
                    )
                node["nav"] = ("end",)
        if "hub" in body:
            node["hub"] = self._hub(src, body)
        if "event" in body:
            node["event"] = self._event(src, body)
        return node

    def _target(self, src: _Source, m: Any, key: Any, allow_special: bool = True) -> int:
        ref = m[key]
        line, col, _ = src.at_value(m, key)
        if ref in SPECIAL_TARGETS:
            if not allow_special:
                src.error(line, col, f"'{ref}' can't be used here; name a node")
                return 0
            return SPECIAL_TARGETS[ref]
        if ref.startswith("<"):
            guess = ex.did_you_mean(ref, list(SPECIAL_TARGETS))
            hint = f"; did you mean '{guess}'?" if guess else ""
            src.error(line, col, f"unknown special target '{ref}'{hint}")
            return 0
        index = self.scope.node(ref)
        if index is None:
            guess = self.scope.suggest(ref, "node")
            hint = f"; did you mean '{guess}'?" if guess else ""
            src.error(line, col, f"unknown node '{ref}'{hint}")
            return 0
        return index

    def _expr(self, src: _Source, m: Any, key: Any, numeric: bool = False, boolean: bool = False) -> Any:
        value = m[key]
        line, col, style = src.at_value(m, key)
        if isinstance(value, bool):
            return ("num", value)
        if isinstance(value, (int, float)):
            return ("num", value)
        if not isinstance(value, str):
            src.error(line, col, f"expected an expression, not {_type_name(value)}")
            return ("num", 0)
        try:
            tree, t = self.scope.parse("expr", value)
        except ex.ExprError as exc:
            self._expr_error(src, line, col, style, value, exc)
            return ("num", 0)
        if numeric and t == ex.STR:
            src.error(line, col, "expected a number here, not text")
        if boolean and t == ex.STR:
            src.error(line, col, "a condition must be true or false, not text")
        return tree

    def _expr_error(
        self, src: _Source, line: int, col: int, style: str | None, value: str, exc: ex.ExprError
    ) -> None:
        message = exc.message
        if style in (None, "'", '"') and "\n" not in value:
            col += exc.offset + (1 if style in ("'", '"') else 0)
        if style is None and message.startswith("expected ')'") and "(" in value and ")" not in value:
            message += " (inside [...] or {...}, YAML splits at commas: quote an expression that has one)"
        src.error(line, col, message)

    def _effects(self, src: _Source, m: Any, key: Any) -> list[Any]:
        value = m[key]
        if isinstance(value, str):
            seq = Seq(*src.at_value(m, key)[:2])
            seq.append(value)
            seq.pos.append(src.at_value(m, key))
            value = seq
        if not isinstance(value, Seq):
            line, col, _ = src.at_value(m, key)
            src.error(line, col, f"effects must be a list, not {_type_name(value)}")
            return []
        out: list[Any] = []
        for i, item in enumerate(value):
            line, col, style = src.at_value(value, i)
            if isinstance(item, str):
                try:
                    out.append(self.scope.parse("set", item))
                except ex.ExprError as exc:
                    self._expr_error(src, line, col, style, item, exc)
            elif isinstance(item, Map):
                src.check_keys(item, EFFECT_BLOCK_KEYS, "an effect block", required=("if", "then"))
                if "if" not in item or "then" not in item:
                    continue
                cond = self._expr(src, item, "if", boolean=True)
                then = self._effects(src, item, "then")
                other = self._effects(src, item, "else") if "else" in item else []
                out.append(("if", cond, then, other))
            else:
                src.error(
                    line, col, f"an effect must be text like 'x += 1' or an if block, not {_type_name(item)}"
                )
        return out

    def _template(self, src: _Source, m: Any, key: Any, text: str) -> tuple[Any, ...]:
        """Split text into literal parts and ("e", tree) parts; `{{`/`}}` are literal braces."""
        line, col, style = src.at_value(m, key)
        if len(text) > MAX_TEXT:
            src.error(line, col, f"text is longer than {MAX_TEXT:,} characters")
            return (text[:MAX_TEXT],)
        if "{" not in text and "}" not in text:
            return (text,)
        parts: list[Any] = []
        buf: list[str] = []
        i, n = 0, len(text)
        while i < n:
            ch = text[i]
            if ch == "{" and text.startswith("{{", i):
                buf.append("{")
                i += 2
            elif ch == "}" and text.startswith("}}", i):
                buf.append("}")
                i += 2
            elif ch == "{":
                end = text.find("}", i + 1)
                if end < 0:
                    self._expr_error(
                        src,
                        line,
                        col,
                        style,
                        text,
                        ex.ExprError("'{' is never closed (write '{{' for a brace)", i),
                    )
                    return (text,)
                source = text[i + 1 : end]
                try:
                    tree, vtype = self.scope.parse("expr", source)
                except ex.ExprError as exc:
                    self._expr_error(
                        src, line, col, style, text, ex.ExprError(exc.message, i + 1 + exc.offset)
                    )
                    return (text,)
                if buf:
                    parts.append("".join(buf))
                    buf = []
                parts.append(("e", tree, vtype))
                i = end + 1
            elif ch == "}":
                self._expr_error(
                    src, line, col, style, text, ex.ExprError("'}' without '{' (write '}}' for a brace)", i)
                )
                return (text,)
            else:
                buf.append(ch)
                i += 1
        if buf:
            parts.append("".join(buf))
        return tuple(parts)

    def _paragraphs(self, src: _Source, m: Any, key: Any, text: str) -> list[Any]:
        out = []
        for para in _PARAGRAPHS.split(text.strip()):
            para = " ".join(line.strip() for line in para.splitlines() if line.strip())
            if para:
                out.append(("p", self._template(src, m, key, para)))
        return out

    def _text(self, src: _Source, m: Any, key: Any) -> list[Any]:
        value = m[key]
        if isinstance(value, str):
            return self._paragraphs(src, m, key, value)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return self._paragraphs(src, m, key, str(value))
        if isinstance(value, Map):
            return self._text_item(src, value)
        if not isinstance(value, Seq):
            line, col, _ = src.at_value(m, key)
            src.error(line, col, f"text must be text or a list of text items, not {_type_name(value)}")
            return []
        items: list[Any] = []
        for i, item in enumerate(value):
            if isinstance(item, (str, int, float)) and not isinstance(item, bool):
                items.extend(self._paragraphs(src, value, i, str(item)))
            elif isinstance(item, Map):
                items.extend(self._text_item(src, item))
            else:
                line, col, _ = src.at_value(value, i)
                src.error(line, col, f"a text item must be text or a mapping, not {_type_name(item)}")
        return items

    def _text_item(self, src: _Source, item: Map) -> list[Any]:
        key = next(iter(item), "")
        if len(item) == 1 and key not in TEXT_ITEM_KEYS and not ex.did_you_mean(key, sorted(TEXT_ITEM_KEYS)):
            if src.at_key(item, key) != (item.line, item.col):  # the key isn't first: it's in braces
                src.error(
                    item.line,
                    item.col,
                    f"this text reads as a mapping because it starts with '{{'; put the whole "
                    f'text in quotes, like "{{{key}}} ..."',
                )
                return []
            src.error(
                *src.at_key(item, key),
                f"this text reads as a key '{key}' because it contains ': '; put the text in quotes",
            )
            return []
        src.check_keys(item, TEXT_ITEM_KEYS, "a text item")
        kinds = [k for k in ("if", "sequence", "cycle", "shuffle") if k in item]
        if len(kinds) != 1:
            src.error(
                item.line, item.col, "a text item needs exactly one of 'if', 'sequence', 'cycle' or 'shuffle'"
            )
            return []
        kind = kinds[0]
        if kind == "if":
            if "text" not in item:
                src.error(item.line, item.col, "a conditional text item needs 'text'")
                return []
            cond = self._expr(src, item, "if", boolean=True)
            then = self._text(src, item, "text")
            other = self._text(src, item, "else") if "else" in item else []
            return [("if", cond, then, other)]
        for extra in ("text", "else"):
            if extra in item:
                src.error(*src.at_key(item, extra), f"'{extra}' can't be used with '{kind}'")
        if not src.want(item, kind, (Seq,), f"'{kind}'"):
            return []
        alternatives = [self._text(src, item[kind], i) for i in range(len(item[kind]))]
        if not alternatives:
            src.error(*src.at_value(item, kind)[:2], f"'{kind}' needs at least one entry")
            return []
        return [(kind, alternatives)]

    def _cost(self, src: _Source, m: Map) -> list[Any]:
        if not src.want(m, "cost", (Map,), "'cost'"):
            return []
        out = []
        cost = m["cost"]
        for name in cost:
            info = self.scope.variable(name, write=True)
            if info is None or info.type != "int":
                guess = self.scope.suggest(name, "variable")
                hint = f"; did you mean '{guess}'?" if guess else ""
                src.error(*src.at_key(cost, name), f"a cost must name an int variable, not '{name}'{hint}")
                continue
            self.scope.read.add(info.slot)
            out.append((info.slot, self._expr(src, cost, name, numeric=True)))
        return out

    def _condition(self, src: _Source, m: Map, out: IRChoice | IREvent) -> None:
        out["if"] = self._expr(src, m, "if", boolean=True) if "if" in m else None
        out["reason"] = None
        if "reason" in m and src.want(m, "reason", (str,), "'reason'"):
            if "if" not in m:
                src.error(*src.at_key(m, "reason"), "'reason' only makes sense with 'if'")
            out["reason"] = self._template(src, m, "reason", m["reason"])

    def _choice(self, src: _Source, seq: Seq, i: int) -> IRChoice | None:
        m = seq[i]
        line, col, _ = src.at_value(seq, i)
        if not isinstance(m, Map):
            src.error(line, col, f"a choice must be a mapping with 'text' and 'goto', not {_type_name(m)}")
            return None
        src.check_keys(m, CHOICE_KEYS, "a choice", required=("goto",))
        choice: IRChoice = {
            "line": line,
            "text": ("",),
            "if": None,
            "reason": None,
            "cost": [],
            "effects": None,
            "goto": 0,
            "once": False,
            "fallback": False,
        }
        for key in ("once", "fallback"):
            if key in m and src.want(m, key, (bool,), f"'{key}'"):
                choice[key] = m[key]
        if "id" in m and src.want(m, "id", (str,), "a choice's 'id'"):
            if CHOICE_ID.fullmatch(m["id"]) is None:
                src.error(
                    *src.at_value(m, "id")[:2],
                    f"a choice's id '{m['id']}' must be letters, digits, '_' or '-'",
                )
            else:
                choice["id"] = m["id"]
        if "text" in m:
            if src.want(m, "text", (str, int, float), "choice text"):
                choice["text"] = self._template(src, m, "text", " ".join(str(m["text"]).split()))
        elif not choice["fallback"]:
            src.error(line, col, "a choice needs 'text' (only a fallback choice can go without)")
        self._condition(src, m, choice)
        if "cost" in m:
            choice["cost"] = self._cost(src, m)
        if "effects" in m:
            choice["effects"] = self._effects(src, m, "effects")
        if "goto" in m and src.want(m, "goto", (str,), "'goto'"):
            choice["goto"] = self._target(src, m, "goto")
        return choice

    def _random(self, src: _Source, seq: Seq) -> list[Any]:
        out = []
        if not seq:
            src.error(seq.line, seq.col, "'random' needs at least one entry")
        for i, m in enumerate(seq):
            if not isinstance(m, Map):
                src.error(
                    *src.at_value(seq, i)[:2],
                    f"a random entry must be a mapping with 'weight' and 'goto', not {_type_name(m)}",
                )
                continue
            src.check_keys(m, RANDOM_KEYS, "a random entry", required=("goto",))
            weight = self._expr(src, m, "weight", numeric=True) if "weight" in m else ("num", 1)
            effects = self._effects(src, m, "effects") if "effects" in m else None
            target = self._target(src, m, "goto") if isinstance(m.get("goto"), str) else 0
            if "goto" in m and not isinstance(m["goto"], str):
                src.want(m, "goto", (str,), "'goto'")
            out.append((weight, effects, target))
        return out

    def _branch(self, src: _Source, seq: Seq) -> list[Any]:
        out = []
        if not seq:
            src.error(seq.line, seq.col, "'branch' needs at least one entry")
        for i, m in enumerate(seq):
            if not isinstance(m, Map):
                src.error(
                    *src.at_value(seq, i)[:2],
                    f"a branch entry must be a mapping with 'if' and 'goto', not {_type_name(m)}",
                )
                continue
            src.check_keys(m, BRANCH_KEYS, "a branch entry", required=("goto",))
            cond = self._expr(src, m, "if", boolean=True) if "if" in m else None
            if cond is None and i != len(seq) - 1:
                src.error(m.line, m.col, "only the last branch entry can go without 'if'")
            effects = self._effects(src, m, "effects") if "effects" in m else None
            target = self._target(src, m, "goto") if isinstance(m.get("goto"), str) else 0
            if "goto" in m and not isinstance(m["goto"], str):
                src.want(m, "goto", (str,), "'goto'")
            out.append((cond, effects, target))
        if seq and isinstance(seq[-1], Map) and "if" in seq[-1]:
            src.error(
                seq[-1].line,
                seq[-1].col,
                "the last branch entry must have no 'if', so the branch always goes somewhere",
            )
        return out

    def _ending(self, src: _Source, m: Map, key: str) -> IREnding | None:
        if not src.want(m, key, (Map,), "'ending'"):
            return None
        e = m[key]
        src.check_keys(e, ENDING_KEYS, "an ending", required=("id", "title"))
        out: IREnding = {"id": "", "title": "", "category": "", "character": None}
        for k in ("id", "title", "category"):
            if k in e and src.want(e, k, (str,), f"'ending.{k}'"):
                out[k] = e[k]
        if out["id"]:
            line, col = src.at_value(e, "id")[:2]
            if out["id"] in self.ending_ids:
                first = self.ending_ids[out["id"]]
                src.error(line, col, f"ending id '{out['id']}' is already used at {first[0]}:{first[1]}")
            else:
                self.ending_ids[out["id"]] = (src.rel, line, col)
        if "character" in e and src.want(e, "character", (str,), "'ending.character'"):
            char = self.char_index.get(e["character"])
            if char is None:
                guess = ex.did_you_mean(e["character"], list(self.char_index))
                hint = f"; did you mean '{guess}'?" if guess else ""
                src.error(*src.at_value(e, "character")[:2], f"unknown character '{e['character']}'{hint}")
            out["character"] = char
        return out

    def _tags(self, src: _Source, m: Map) -> list[str] | None:
        if "tags" not in m or not src.want(m, "tags", (Seq,), "'tags'"):
            return None
        return [t for i, t in enumerate(m["tags"]) if src.want(m["tags"], i, (str,), "a tag")]

    def _hub(self, src: _Source, body: Map) -> IRHub | None:
        value = body["hub"]
        if value is True:
            return {"tags": None, "limit": None}
        if value is False:
            return None
        if not src.want(body, "hub", (Map, bool), "'hub'"):
            return None
        src.check_keys(value, HUB_KEYS, "'hub'")
        limit = None
        if "limit" in value and src.want(value, "limit", (int,), "'hub.limit'"):
            limit = value["limit"]
            if limit < 1:
                src.error(*src.at_value(value, "limit")[:2], "'hub.limit' must be at least 1")
        return {"tags": self._tags(src, value), "limit": limit}

    def _event(self, src: _Source, body: Map) -> IREvent | None:
        if not src.want(body, "event", (Map,), "'event'"):
            return None
        m = body["event"]
        src.check_keys(m, EVENT_KEYS, "an event", required=("title",))
        event: IREvent = {
            "title": ("",),
            "if": None,
            "reason": None,
            "cost": [],
            "priority": 0,
            "weight": ("num", 1),
            "once": False,
            "cooldown": 0,
            "forced": False,
            "tags": None,
        }
        if "title" in m and src.want(m, "title", (str,), "'event.title'"):
            event["title"] = self._template(src, m, "title", " ".join(m["title"].split()))
        self._condition(src, m, event)
        if "cost" in m:
            event["cost"] = self._cost(src, m)
        for key in ("priority", "cooldown"):
            if key in m and src.want(m, key, (int,), f"'event.{key}'"):
                event[key] = m[key]
        if "weight" in m:
            event["weight"] = self._expr(src, m, "weight", numeric=True)
        if "once" in m and src.want(m, "once", (bool,), "'event.once'"):
            event["once"] = m["once"]
        if "forced" in m and src.want(m, "forced", (bool,), "'event.forced'"):
            event["forced"] = m["forced"]
        event["tags"] = self._tags(src, m)
        return event

    # -- warnings -------------------------------------------------------------------------
    def _warnings(self, ir: dict[str, Any]) -> None:
        nodes = ir["nodes"]
        hubs = [i for i, n in enumerate(nodes) if n["hub"] is not None]
        events = [i for i, n in enumerate(nodes) if n["event"] is not None]
        turns = ir["turns"]

        def targets(node: dict[str, Any]) -> list[int]:
            out: list[int] = []
            nav = node["nav"]
            if nav[0] == "goto":
                out.append(nav[1])
            elif nav[0] in ("random", "branch"):
                out.extend(t for _a, _b, t in nav[1])
            out.extend(c["goto"] for c in node["choices"] if c)
            return out

        reach = [False] * len(nodes)
        stack = [ir["start"]]
        while stack:
            i = stack.pop()
            if i < 0:
                if i == HUB:
                    stack.extend(h for h in hubs if not reach[h])
                elif turns and turns["hub"] is not None and not reach[turns["hub"]]:
                    stack.append(turns["hub"])
                continue
            if reach[i]:
                continue
            reach[i] = True
            node = nodes[i]
            stack.extend(targets(node))
            if node["hub"] is not None:
                tags = node["hub"]["tags"]
                for e in events:
                    etags = nodes[e]["event"]["tags"]
                    if not tags or (etags and set(tags) & set(etags)):
                        stack.append(e)
        for i, node in enumerate(nodes):
            file, line, col = self.node_src[i]
            if not reach[i]:
                self.problems.append(
                    Problem(
                        file, line, col, f"node '{node['id']}' can't be reached from the start", "warning"
                    )
                )
            if node["nav"] == ("choices",) and not node["choices"]:
                self.problems.append(
                    Problem(
                        file,
                        line,
                        col,
                        f"node '{node['id']}' is a dead end: it has no choices, no goto and is not an ending",
                        "warning",
                    )
                )
            if node["event"] is not None and not hubs:
                self.problems.append(
                    Problem(
                        file,
                        line,
                        col,
                        f"event '{node['id']}' will never be offered: the story has no hub",
                        "warning",
                    )
                )
        used = self.scope.read | self.scope.written
        bases_used = {self.vars[s]["base"] for s in used if self.vars[s]["character"] is not None}
        reported: set[str] = set()
        for slot, var in enumerate(self.vars):
            if slot in used:
                continue
            if var["character"] is not None:
                if var["base"] in bases_used or var["base"] in reported:
                    continue
                reported.add(var["base"])
                name = var["base"]
            else:
                name = var["name"]
            if var["track"] or var["display"] != "hidden":
                continue  # shown to the player, so it's used even if no rule reads it
            file, line, col = self.var_src[slot]
            self.problems.append(Problem(file, line, col, f"variable '{name}' is never used", "warning"))
        self._loops(nodes)

    def _loops(self, nodes: list[dict[str, Any]]) -> None:
        # A cycle of nodes that only go straight on (goto/random/branch) never stops for a choice.
        auto = {i for i, n in enumerate(nodes) if n["nav"][0] in ("goto", "random", "branch")}
        state: dict[int, int] = {}
        for start in auto:
            if start in state:
                continue
            path = [(start, iter(self._auto_targets(nodes[start])))]
            state[start] = 1
            while path:
                node, it = path[-1]
                nxt = next(it, None)
                if nxt is None:
                    state[node] = 2
                    path.pop()
                    continue
                if nxt < 0 or nxt not in auto:
                    continue
                if state.get(nxt) == 1:
                    file, line, col = self.node_src[nxt]
                    self.problems.append(
                        Problem(
                            file,
                            line,
                            col,
                            f"node '{nodes[nxt]['id']}' is in a loop that never stops for a choice",
                            "error",
                        )
                    )
                    continue
                if nxt not in state:
                    state[nxt] = 1
                    path.append((nxt, iter(self._auto_targets(nodes[nxt]))))

    @staticmethod
    def _auto_targets(node: dict[str, Any]) -> list[int]:
        nav = node["nav"]
        if nav[0] == "goto":
            return [nav[1]]
        return [t for _a, _b, t in nav[1]]


def story_files(root: Path) -> list[Path]:
    """Every YAML file of a story folder, story.yaml first, then in path order."""
    return scan_story_folder(root)[0]


def scan_story_folder(root: Path) -> tuple[list[Path], list[Problem]]:
    """The story's YAML files (story.yaml first) and the entries refused, with why.

    Only ordinary files are listed, by their `stat` (nothing is opened); a link that leads out
    of the folder is refused; the walk stops as soon as the folder holds more than MAX_FILES
    story files or MAX_ENTRIES entries, so pointing at `/` costs no more than that.
    """
    files: list[Path] = []
    problems: list[Problem] = []
    try:
        top = root.resolve()
    except (OSError, RuntimeError):
        return [], [Problem(str(root), 1, 1, "can't read the story folder")]
    seen = 0
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = list(it)
        except OSError:
            continue
        for entry in entries:
            seen += 1
            if seen > MAX_ENTRIES or len(files) > MAX_FILES:
                return files, [
                    Problem(
                        str(root),
                        1,
                        1,
                        f"too many files: a story folder holds at most {MAX_FILES:,} "
                        f"story files and {MAX_ENTRIES:,} entries in all (is this the story's folder?)",
                    )
                ]
            if entry.name.startswith("."):
                continue
            path = Path(entry.path)
            rel = path.relative_to(root).as_posix()
            is_yaml = path.suffix in (".yaml", ".yml")
            try:
                link = entry.is_symlink()
                if link:
                    target = path.resolve()
                    if target != top and top not in target.parents:
                        if is_yaml or target.is_dir():
                            problems.append(
                                Problem(
                                    rel,
                                    1,
                                    1,
                                    "refused: a link to somewhere outside the story folder "
                                    "(copy the file into the folder instead)",
                                )
                            )
                        continue
                if entry.is_dir(follow_symlinks=False):
                    stack.append(path)
                    continue
                if not is_yaml:
                    continue
                st = entry.stat()
            except FileNotFoundError:
                if is_yaml:
                    problems.append(Problem(rel, 1, 1, "refused: a link to a file that doesn't exist"))
                continue
            except (OSError, RuntimeError) as exc:
                problems.append(
                    Problem(rel, 1, 1, f"can't read the file: {getattr(exc, 'strerror', None) or exc}")
                )
                continue
            if stat.S_ISDIR(st.st_mode):
                continue  # a link to a folder inside the story: its files are found there
            if not stat.S_ISREG(st.st_mode):
                problems.append(
                    Problem(
                        rel, 1, 1, f"refused: {kind_of(st.st_mode)}, not an ordinary file; it is not read"
                    )
                )
                continue
            files.append(path)
    files.sort(key=lambda p: (p.relative_to(root).as_posix() != "story.yaml", p.relative_to(root).as_posix()))
    return files, problems


def build_ir(root: Path, files: list[tuple[str, bytes]]) -> tuple[dict[str, Any] | None, list[Problem]]:
    """Check a story's files and build its IR; problems are sorted errors-first by place."""
    builder = _Builder(root, files)
    try:
        ir = builder.build()
    except RecursionError:
        builder.problems.append(
            Problem(files[0][0] if files else "story.yaml", 1, 1, "story is nested too deeply to read")
        )
        ir = None
    problems = sorted(builder.problems, key=lambda p: (p.severity != "error", p.file, p.line, p.column))
    if any(p.severity == "error" for p in problems):
        ir = None
    return ir, problems
