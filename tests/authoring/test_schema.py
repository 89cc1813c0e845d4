"""`iom schema`: a JSON Schema every real story and every docs example satisfies, which agrees
with the loader about what is broken."""

from __future__ import annotations

import json
import re

import jsonschema
import pytest
import yaml

from game.authoring.schema import story_schema
from game.cli import main
from game.engine import check, loader

from .conftest import BASIC, FIRST_WEEK, ROOT, SHIPPED, story_dir

VALIDATOR = jsonschema.Draft202012Validator(story_schema())


def errors(doc):
    return [f"{list(e.absolute_path)}: {e.message}" for e in VALIDATOR.iter_errors(doc)]


def test_the_schema_is_a_valid_draft_2020_12_schema(capsys):
    jsonschema.Draft202012Validator.check_schema(story_schema())
    assert main(["schema"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert printed == story_schema()


@pytest.mark.parametrize("root", [SHIPPED, FIRST_WEEK, BASIC], ids=["shipped", "first_week", "basic"])
def test_real_stories_validate(root):
    for path in sorted(root.rglob("*.yaml")):
        assert errors(yaml.safe_load(path.read_text(encoding="utf-8"))) == [], path


def _doc_blocks():
    for doc in sorted((ROOT / "docs").glob("*.md")):
        for m in re.finditer(r"```yaml\n(.*?)```", doc.read_text(encoding="utf-8"), re.S):
            yield doc.name, m.group(1)


def _as_file(block):
    """A docs example as a whole file: fragments of a node or of story.yaml are completed."""
    data = yaml.safe_load(block)
    if not isinstance(data, dict):
        return data
    if "nodes" in data or "id" in data:
        return data
    if set(data) <= loader.NODE_KEYS:
        return {"nodes": {"example": data}}
    if set(data) <= loader.STORY_KEYS:
        return {"id": "x", "title": "X", "start": "a.b", **data}
    raise AssertionError(f"can't tell what this example is: {sorted(data)}")


def test_every_example_in_the_docs_validates():
    blocks = list(_doc_blocks())
    assert len(blocks) >= 10
    for name, block in blocks:
        assert errors(_as_file(block)) == [], (name, block[:200])


# Each broken file, written into a story that is otherwise fine: the loader must report an
# error and the schema must reject the file.
STORY = "id: t\ntitle: T\nstart: main.start\n"
SCENE = "nodes:\n  start:\n    text: Hi.\n    ending: {id: end, title: End}\n"
BROKEN = {
    "unknown story key": ("story.yaml", STORY + "tittle: T\n"),
    "story without start": ("story.yaml", "id: t\ntitle: T\n"),
    "variable without type": ("story.yaml", STORY + "variables:\n  n: {initial: 1}\n"),
    "bad variable type": ("story.yaml", STORY + "variables:\n  n: {type: float}\n"),
    "bad display": ("story.yaml", STORY + "variables:\n  n: {type: int, display: pie}\n"),
    "enum without values": ("story.yaml", STORY + "variables:\n  n: {type: enum}\n"),
    "bool with a number": ("story.yaml", STORY + "variables:\n  n: {type: bool, initial: 3}\n"),
    "bad variable name": ("story.yaml", STORY + "variables:\n  2n: {type: int}\n"),
    "turns without hub": ("story.yaml", STORY + "turns: {refill: 8}\n"),
    "unknown node key": ("main.yaml", "nodes:\n  start:\n    txt: Hi.\n    ending: {id: end, title: End}\n"),
    "two ways on": ("main.yaml", "nodes:\n  start:\n    text: Hi.\n    goto: start\n    choices: []\n"),
    "choice without goto": ("main.yaml", "nodes:\n  start:\n    text: Hi.\n    choices:\n      - text: Go\n"),
    "choice without text": (
        "main.yaml",
        "nodes:\n  start:\n    text: Hi.\n    choices:\n      - goto: start\n",
    ),
    "choice is text": ("main.yaml", "nodes:\n  start:\n    text: Hi.\n    choices:\n      - Go on\n"),
    "once is not a flag": (
        "main.yaml",
        "nodes:\n  start:\n    choices:\n      - {text: Go, goto: start, once: 2}\n",
    ),
    "ending without title": ("main.yaml", "nodes:\n  start:\n    text: Hi.\n    ending: {id: end}\n"),
    "event without title": ("main.yaml", SCENE + "  e:\n    event: {if: 'true'}\n    goto: start\n"),
    "hub limit zero": ("main.yaml", SCENE + "  h:\n    hub: {limit: 0}\n    goto: start\n"),
    "text item with two kinds": (
        "main.yaml",
        "nodes:\n  start:\n    text:\n      - {cycle: [a], shuffle: [b]}\n"
        "    ending: {id: end, title: End}\n",
    ),
    "empty random": ("main.yaml", "nodes:\n  start:\n    random: []\n"),
    "effect block without then": (
        "main.yaml",
        "nodes:\n  start:\n    effects:\n      - if: 'true'\n    ending: {id: end, title: End}\n",
    ),
    "scene without nodes": ("main.yaml", "scene: main\ncharacter: x\n"),
    "nodes is a list": ("main.yaml", "nodes:\n  - start\n"),
}


@pytest.mark.parametrize("name", list(BROKEN))
def test_schema_and_loader_agree_on_broken_files(tmp_path, name):
    rel, text = BROKEN[name]
    files = {"story.yaml": STORY, "main.yaml": SCENE, rel: text}
    root = story_dir(tmp_path, files)
    _story, problems = check(root, cache_dir=False)
    assert [p for p in problems if p.severity == "error"], f"the loader accepts {name}"
    assert errors(yaml.safe_load(text)), f"the schema accepts {name}"


def test_schema_and_loader_agree_on_good_files(tmp_path):
    good = {
        "story.yaml": STORY
        + "variables:\n  n: {type: int, initial: 2, min: 0, max: 5, display: bar, track: true}\n"
        "  mood: {type: enum, values: [calm, cross], initial: cross}\n"
        "characters:\n  ann: Ann\n  bob: {name: Bob, initial: {level: 2}}\n"
        "character_variables:\n  level: {type: int, max: 9}\n"
        "turns: {counter: n, hub: main.start, end_of_turn: 'n += 1'}\n",
        "main.yaml": "nodes:\n  start:\n    hub: {tags: [a], limit: 2}\n    text: {if: n > 1, text: Big, else: [Small]}\n"
        "    choices:\n      - {text: 3, goto: <end-turn>, once: true}\n      - {fallback: true, goto: fin}\n"
        "  fin:\n    text: [Done., {sequence: [a, [b, c]]}]\n    ending: {id: end, title: End}\n",
    }
    root = story_dir(tmp_path, good)
    _story, problems = check(root, cache_dir=False)
    assert not [p for p in problems if p.severity == "error"], [str(p) for p in problems]
    for rel in good:
        assert errors(yaml.safe_load((root / rel).read_text())) == [], rel


def _missing_descriptions(schema):
    """Every key (a property anywhere in the schema) without a description, as paths."""
    defs = schema["$defs"]

    def described(prop):
        if "description" in prop:
            return True
        ref = prop.get("$ref")
        return ref is not None and "description" in defs[ref.rsplit("/", 1)[1]]

    missing = []

    def walk(node, path):
        if isinstance(node, dict):
            # The keys of a file's mappings (not the conditions that refine them).
            keys = node.get("properties") if node.get("additionalProperties") is False else None
            for key, prop in (keys or {}).items():
                if isinstance(prop, dict) and not described(prop) and "const" not in prop and prop != {}:
                    missing.append(f"{path}.{key}")
            for key, value in node.items():
                walk(value, f"{path}.{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{path}[{i}]")

    walk(schema, "$")
    return missing


def test_every_key_has_a_description():
    assert _missing_descriptions(story_schema()) == []


def test_the_description_check_notices_a_missing_one():
    schema = story_schema()
    del schema["$defs"]["variable"]["properties"]["unit"]["description"]
    assert _missing_descriptions(schema) == ["$.$defs.variable.unit"]
