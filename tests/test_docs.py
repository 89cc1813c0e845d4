"""Every YAML example in docs/ parses, and every complete example loads without errors."""

from __future__ import annotations

import re

import pytest

from game.engine import Game, check, yamlsrc

from .conftest import ROOT

DOCS = sorted((ROOT / "docs").glob("*.md"))
BLOCK = re.compile(r"```yaml\n(.*?)```", re.S)


def _blocks():
    for doc in DOCS:
        for m in BLOCK.finditer(doc.read_text(encoding="utf-8")):
            yield doc.name, m.group(1)


def test_docs_have_examples():
    assert len(list(_blocks())) >= 10


@pytest.mark.parametrize(("doc", "block"), list(_blocks()))
def test_every_example_is_valid_yaml(doc, block):
    assert yamlsrc.read(block.encode()) is not None


def _stories():
    """Blocks starting '# file: PATH' make stories; a new story.yaml starts the next one."""
    stories: list[dict[str, str]] = []
    for _doc, block in _blocks():
        first = block.splitlines()[0]
        if not first.startswith("# file: "):
            continue
        path = first[len("# file: ") :].strip()
        if path == "story.yaml":
            stories.append({})
        stories[-1][path] = block
    return stories


def test_complete_examples_load_and_play(tmp_path):
    stories = _stories()
    assert stories
    for n, files in enumerate(stories):
        root = tmp_path / f"s{n}"
        for rel, text in files.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(text, encoding="utf-8")
        story, problems = check(root, cache_dir=False)
        assert story is not None and not problems, [str(p) for p in problems]
        game = Game(story, seed=1)
        for _ in range(500):
            if game.ended:
                break
            game.choose([o.index for o in game.choices if o.enabled][0])
        assert game.ended
