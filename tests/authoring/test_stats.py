"""`iom stats`: words, nodes, choices, endings and events, in total, per case and per scene."""

from __future__ import annotations

import json

from game.cli import main

from .conftest import FIRST_WEEK, story_dir


def test_stats_count_by_hand(tmp_path, capsys):
    root = story_dir(
        tmp_path,
        {
            "story.yaml": """
            id: c
            title: Counting
            start: town.start
            characters: {ann: {name: Ann}, bob: {name: Bob}}
            variables:
              day: {type: int, initial: 1, min: 1, max: 3}
            turns: {counter: day, hub: town.start}
        """,
            "town.yaml": """
            nodes:
              start:
                hub: true
                text: One two three.
                choices:
                  - {text: Next day, goto: <end-turn>}
              fin:
                event: {title: The end comes, forced: true, if: day >= 3}
                text: Over.
                ending: {id: over, title: All over}
        """,
            "ann.yaml": """
            character: ann
            nodes:
              visit:
                event: {title: See Ann}
                text:
                  - Ann waves, {ann.name} smiles.
                  - if: day > 1
                    text: Again.
                    else: First time here.
                choices:
                  - {text: Stay, goto: visit}
                  - {text: Go, goto: <hub>}
                  - {fallback: true, goto: <hub>}
        """,
            "bob.yaml": """
            nodes:
              gone:
                text: Bob has gone.
                ending: {id: bob_gone, title: Bob gone, character: bob}
                goto: <hub>
        """,
        },
    )
    assert main(["stats", str(root), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    # words: start 3 + "Next day" 2; fin "Over." 1 + title 3 + ending title 2;
    # visit: "Ann waves, {ann.name} smiles." 4 + 1 + 3 + "See Ann" 2 + Stay 1 + Go 1; gone 3 + title 2
    assert data["cases"]["ann"] == {"words": 12, "nodes": 1, "choices": 2, "endings": 0, "events": 1}
    assert data["cases"]["bob"] == {"words": 5, "nodes": 1, "choices": 0, "endings": 1, "events": 0}
    assert data["no_case"] == {"words": 11, "nodes": 2, "choices": 1, "endings": 1, "events": 1}
    assert (data["words"], data["nodes"], data["choices"], data["endings"], data["events"]) == (
        28,
        4,
        3,
        2,
        2,
    )
    assert set(data["scenes"]) == {"town", "ann", "bob"}


def test_stats_of_the_sample_and_shipped_stories(capsys):
    assert main(["stats", str(FIRST_WEEK)]) == 0
    out = capsys.readouterr().out
    assert "By case" in out and "Becky (becky)" in out and "By scene" in out
    assert main(["stats", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {"words", "nodes", "choices", "endings", "cases"} <= set(data)
    assert data["nodes"] > 400 and data["words"] > 50_000
    for case in data["cases"].values():
        assert {"words", "nodes", "endings"} <= set(case)
    assert sum(c["nodes"] for c in data["cases"].values()) + data["no_case"]["nodes"] == data["nodes"]
