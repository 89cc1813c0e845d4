"""A JSON Schema (draft 2020-12) of the story format, for YAML editors.

Built from the loader's own lists of keys, so the two can't drift apart on which keys exist;
a test checks that they agree on a set of broken examples too. The schema covers structure
(keys, types, required keys, allowed values); what only the loader can know (whether a name
is declared, whether an expression parses) stays with `iom check`.
"""

from __future__ import annotations

from typing import Any

from ..engine import loader

SCHEMA_ID = "https://straight-and-narrow.invalid/schema/story.json"
NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"
DOTTED = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/$defs/{name}"}


def _object(
    keys: set[str],
    properties: dict[str, Any],
    required: tuple[str, ...] = (),
    description: str = "",
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    missing = keys - set(properties)
    if missing:  # pragma: no cover - a loader key the schema forgot: fail loudly in the tests
        raise AssertionError(f"schema lacks {sorted(missing)}")
    out: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        out["required"] = list(required)
    if description:
        out["description"] = description
    out.update(extra or {})
    return out


def _text_type(description: str) -> dict[str, Any]:
    return {"type": ["string", "number"], "description": description}


def story_schema() -> dict[str, Any]:
    """The schema: story.yaml and scene files both (a file with `nodes` is a scene)."""
    expression = {
        "type": ["string", "number", "boolean"],
        "description": "An expression, e.g. 'becky.trust >= 3 and chance(0.5)'. `iom check` checks the names in it.",
    }
    target = {
        "type": "string",
        "description": "A node: 'name' in this scene, 'scene.name' anywhere, or '<hub>' / '<end-turn>'.",
        "pattern": r"^(<hub>|<end-turn>|[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*)$",
    }
    defs: dict[str, Any] = {}
    defs["expression"] = expression
    defs["target"] = target
    defs["effect"] = {
        "anyOf": [
            {"type": "string", "description": "NAME = EXPR, NAME += EXPR, NAME -= EXPR or NAME *= EXPR"},
            _object(
                loader.EFFECT_BLOCK_KEYS,
                {
                    "if": dict(expression, description="The condition."),
                    "then": dict(_ref("effects"), description="Effects when the condition holds."),
                    "else": dict(_ref("effects"), description="Effects when it doesn't."),
                },
                ("if", "then"),
                "Effects that run only when a condition holds.",
            ),
        ]
    }
    defs["effects"] = {
        "description": "Effects: one statement, or a list of statements and if-blocks.",
        "anyOf": [{"type": "string"}, {"type": "array", "items": _ref("effect")}],
    }
    defs["cost"] = {
        "type": "object",
        "description": "What choosing costs, e.g. {hours: 3}: int variables and amounts.",
        "propertyNames": {"pattern": DOTTED},
        "additionalProperties": _ref("expression"),
    }
    defs["text"] = {
        "description": "A passage: text (blank lines split paragraphs), one text item, or a list of them.",
        "anyOf": [
            _text_type("Text; {expression} interpolates, {{ and }} are braces."),
            _ref("textItem"),
            {"type": "array", "items": {"anyOf": [_text_type("A paragraph."), _ref("textItem")]}},
        ],
    }
    variation = {"type": "array", "minItems": 1, "items": _ref("text")}
    defs["textItem"] = _object(
        loader.TEXT_ITEM_KEYS,
        {
            "if": dict(expression, description="Show 'text' only when this holds."),
            "text": dict(_ref("text"), description="The text shown when 'if' holds."),
            "else": dict(_ref("text"), description="The text shown when it doesn't."),
            "sequence": dict(variation, description="One entry per visit; sticks on the last."),
            "cycle": dict(variation, description="One entry per visit, round and round."),
            "shuffle": dict(variation, description="An entry at random."),
        },
        description="Conditional text (if/text/else) or a variation (sequence, cycle or shuffle).",
        extra={
            "oneOf": [
                {
                    "required": ["if", "text"],
                    "not": {"anyOf": [{"required": [k]} for k in ("sequence", "cycle", "shuffle")]},
                },
                *(
                    {
                        "required": [k],
                        "not": {
                            "anyOf": [
                                {"required": [o]}
                                for o in ("if", "text", "else", "sequence", "cycle", "shuffle")
                                if o != k
                            ]
                        },
                    }
                    for k in ("sequence", "cycle", "shuffle")
                ),
            ]
        },
    )
    defs["choice"] = _object(
        loader.CHOICE_KEYS,
        {
            "text": _text_type("What the player reads; may interpolate {expressions}."),
            "if": dict(
                expression, description="Shown only when this holds (or shown disabled, with a reason)."
            ),
            "reason": {"type": "string", "description": "Why the choice is disabled when its 'if' is false."},
            "cost": _ref("cost"),
            "effects": dict(_ref("effects"), description="What choosing it changes."),
            "goto": dict(target, description="Where choosing it leads."),
            "id": {
                "type": "string",
                "pattern": "^[A-Za-z0-9_-]{1,64}$",
                "description": "A name for the choice, unique in its node, that saves keep when its text changes.",
            },
            "once": {"type": "boolean", "description": "Offered only until chosen once."},
            "fallback": {
                "type": "boolean",
                "description": "Taken automatically when nothing else can be chosen.",
            },
        },
        ("goto",),
        "A choice.",
        extra={
            "if": {"not": {"required": ["fallback"], "properties": {"fallback": {"const": True}}}},
            "then": {"required": ["text"]},
        },
    )
    defs["randomEntry"] = _object(
        loader.RANDOM_KEYS,
        {
            "weight": dict(expression, description="How likely, against the other entries (default 1)."),
            "effects": dict(_ref("effects"), description="What this outcome changes."),
            "goto": dict(target, description="Where this outcome leads."),
        },
        ("goto",),
        "One weighted outcome.",
    )
    defs["branchEntry"] = _object(
        loader.BRANCH_KEYS,
        {
            "if": dict(expression, description="Taken when this holds; the last entry has no 'if'."),
            "effects": dict(_ref("effects"), description="What taking this entry changes."),
            "goto": dict(target, description="Where this entry leads."),
        },
        ("goto",),
        "The first entry whose condition holds is taken.",
    )
    defs["ending"] = _object(
        loader.ENDING_KEYS,
        {
            "id": {"type": "string", "description": "Unique across the story."},
            "title": {"type": "string", "description": "The ending's name, shown to the player."},
            "category": {"type": "string", "description": "Free text: good, mixed, bad, tragic..."},
            "character": {"type": "string", "description": "A character's ending; the story goes on."},
        },
        ("id", "title"),
        "This node is an ending: of the story, or of one character's story.",
    )
    defs["hub"] = {
        "description": "This node lists events as extra choices.",
        "anyOf": [
            {"type": "boolean"},
            _object(
                loader.HUB_KEYS,
                {
                    "tags": {
                        "type": "array",
                        "items": {"type": "string"},
                        "description": "Offer only events with one of these tags (default: every event).",
                    },
                    "limit": {
                        "type": "integer",
                        "minimum": 1,
                        "description": "Offer at most this many events at once (by priority, then weight).",
                    },
                },
            ),
        ],
    }
    defs["event"] = _object(
        loader.EVENT_KEYS,
        {
            "title": {"type": "string", "description": "The choice a hub shows for this event."},
            "if": dict(
                expression, description="Offered only when this holds (or shown disabled, with a reason)."
            ),
            "reason": {"type": "string", "description": "Why the event is disabled when its 'if' is false."},
            "cost": _ref("cost"),
            "priority": {
                "type": "integer",
                "description": "Higher first: among forced events, and under a hub's limit.",
            },
            "weight": dict(
                expression, description="How likely, against events of the same priority (default 1)."
            ),
            "once": {"type": "boolean", "description": "Happens at most once."},
            "cooldown": {"type": "integer", "description": "Turns to wait before it can happen again."},
            "forced": {"type": "boolean", "description": "Preempts the hub as soon as its condition holds."},
            "tags": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Which hubs offer it: those whose tags share one with these.",
            },
        },
        ("title",),
        "This node is an event (a storylet) that hubs offer.",
    )
    ways = ("choices", "goto", "random", "branch")
    defs["node"] = _object(
        loader.NODE_KEYS,
        {
            "text": _ref("text"),
            "effects": dict(_ref("effects"), description="What arriving here changes."),
            "choices": {
                "type": "array",
                "items": _ref("choice"),
                "description": "What the player can choose.",
            },
            "goto": dict(target, description="Go straight on to this node."),
            "random": {
                "type": "array",
                "minItems": 1,
                "items": _ref("randomEntry"),
                "description": "Go on to one of these at random, by weight.",
            },
            "branch": {
                "type": "array",
                "minItems": 1,
                "items": _ref("branchEntry"),
                "description": "Go on to the first entry whose condition holds.",
            },
            "ending": _ref("ending"),
            "hub": _ref("hub"),
            "event": _ref("event"),
            "title": {"type": "string", "description": "A short title for the journal."},
        },
        description="A node: text, then one way on (choices, goto, random or branch) or an ending.",
        extra={"not": {"anyOf": [{"required": [a, b]} for i, a in enumerate(ways) for b in ways[i + 1 :]]}},
    )
    defs["variable"] = _object(
        loader.VAR_KEYS,
        {
            "type": {
                "enum": ["int", "bool", "enum"],
                "description": "int (a whole number), bool or enum (one of 'values').",
            },
            "initial": {"type": ["integer", "boolean", "string"], "description": "The starting value."},
            "min": {
                "type": "integer",
                "minimum": -loader.INT_LIMIT,
                "maximum": loader.INT_LIMIT,
                "description": "The lowest value (an int is clamped to it).",
            },
            "max": {
                "type": "integer",
                "minimum": -loader.INT_LIMIT,
                "maximum": loader.INT_LIMIT,
                "description": "The highest value (an int is clamped to it).",
            },
            "values": {
                "type": "array",
                "items": {"type": "string"},
                "minItems": 1,
                "uniqueItems": True,
                "description": "An enum's possible values.",
            },
            "label": {"type": "string", "description": "The name the player sees."},
            "group": {
                "type": "string",
                "description": "Shown together with others of the group (e.g. pathways).",
            },
            "display": {
                "enum": list(loader._DISPLAYS),
                "description": "How the player sees it: bar, number, text or hidden.",
            },
            "track": {
                "type": "boolean",
                "description": "Record it every turn, for the charts and the year's review.",
            },
            "description": {"type": "string", "description": "What it means, for players and authors."},
            "unit": {
                "type": "string",
                "description": "What it counts, in notices such as 'hours -3' (default: the name).",
            },
            "better": {
                "enum": list(loader._BETTER),
                "description": "Which way is an improvement: higher (the default) or lower.",
            },
        },
        ("type",),
        "A declared variable.",
        extra={
            "allOf": [
                {
                    "if": {"properties": {"type": {"const": "int"}}},
                    "then": {"properties": {"initial": {"type": "integer"}}},
                },
                {
                    "if": {"properties": {"type": {"const": "bool"}}},
                    "then": {"properties": {"initial": {"type": "boolean"}}},
                },
                {
                    "if": {"properties": {"type": {"const": "enum"}}},
                    "then": {"required": ["values"], "properties": {"initial": {"type": "string"}}},
                },
            ]
        },
    )
    defs["variables"] = {
        "type": "object",
        "description": "Declared variables: name, then its declaration.",
        "propertyNames": {"pattern": NAME},
        "additionalProperties": _ref("variable"),
    }
    defs["character"] = {
        "description": "A character: a name, or a mapping with name, description and starting values.",
        "anyOf": [
            {"type": "string", "description": "The character's name."},
            {"type": "null"},
            _object(
                loader.CHAR_KEYS,
                {
                    "name": {"type": "string", "description": "The name the player sees."},
                    "description": {"type": "string", "description": "Who they are, for the caseload."},
                    "initial": {
                        "type": "object",
                        "description": "This character's own starting values.",
                        "propertyNames": {"pattern": NAME},
                        "additionalProperties": {"type": ["integer", "boolean", "string"]},
                    },
                },
            ),
        ],
    }
    characters = {
        "type": "object",
        "propertyNames": {"pattern": NAME},
        "additionalProperties": _ref("character"),
    }
    defs["story"] = _object(
        loader.STORY_KEYS,
        {
            "id": {"type": "string", "description": "A short id, saved in save files."},
            "title": {"type": "string", "description": "The story's title."},
            "start": {"type": "string", "pattern": DOTTED, "description": "The first node (scene.name)."},
            "about": _object(
                loader.ABOUT_KEYS,
                {
                    "author": {"type": ["string", "number"], "description": "Who wrote it."},
                    "description": {
                        "type": ["string", "number"],
                        "description": "What it is about, on the title screen.",
                    },
                    "disclaimer": {"type": ["string", "number"], "description": "Shown on the title screen."},
                    "version": {"type": ["string", "number"], "description": "The story's version."},
                    "content_notes": {
                        "type": "array",
                        "items": {"type": "string"},
                        "description": "Content notes, shown before play.",
                    },
                },
                description="About the story, for the title screen.",
            ),
            "variables": dict(_ref("variables"), description="Variables of the whole story."),
            "characters": dict(
                characters, description="The characters (cases); scene files can declare more."
            ),
            "character_variables": dict(
                _ref("variables"), description="Variables every character has one of, as CHARACTER.NAME."
            ),
            "playtest": {
                "type": "object",
                "additionalProperties": False,
                "description": "What `iom playtest` needs to know of this story.",
                "properties": {
                    "strategies": {
                        "type": "object",
                        "propertyNames": {"pattern": NAME},
                        "additionalProperties": {"type": "string"},
                        "description": "Named strategies for --strategy: NAME: random, first, novel, "
                        "prefer:PATTERN or avoid:PATTERN.",
                    }
                },
            },
            "turns": _object(
                loader.TURN_KEYS,
                {
                    "counter": {
                        "type": "string",
                        "description": "An int variable, +1 at the end of every turn.",
                    },
                    "budget": {"type": "string", "description": "An int variable refilled every turn."},
                    "refill": dict(expression, description="What the budget is refilled to every turn."),
                    "hub": {"type": "string", "pattern": DOTTED, "description": "Where a new turn starts."},
                    "end_of_turn": dict(
                        _ref("effects"), description="Rules that run at the end of every turn."
                    ),
                },
                ("hub",),
                "Turns (weeks): a counter, a budget and end-of-turn rules.",
            ),
        },
        ("id", "title", "start"),
        "story.yaml: the story's declarations.",
    )
    defs["scene"] = _object(
        loader.SCENE_KEYS,
        {
            "scene": {
                "type": "string",
                "pattern": DOTTED,
                "description": "The scene id (default: from the path).",
            },
            "character": {"type": "string", "description": "The character (case) this scene is about."},
            "characters": dict(
                characters, description="Characters this scene file declares (a new case's person)."
            ),
            "title": {"type": "string", "description": "The scene's title."},
            "nodes": {
                "type": "object",
                "propertyNames": {"pattern": NAME},
                "additionalProperties": _ref("node"),
                "description": "The scene's nodes, by name.",
            },
            "variables": dict(
                _ref("variables"), description="Variables this scene declares (its case's, with 'character')."
            ),
            "end_of_turn": dict(_ref("effects"), description="End-of-turn rules, run after story.yaml's."),
        },
        ("nodes",),
        "A scene file: nodes named scene.name.",
    )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "Straight and Narrow story file",
        "description": "story.yaml, or a scene file (any other .yaml in the story folder: it has 'nodes').",
        "type": "object",
        "if": {"required": ["nodes"]},
        "then": _ref("scene"),
        "else": _ref("story"),
        "$defs": defs,
    }
