"""The guide's "Add a case" recipe, as written: a new folder in a copy of the shipped story,
no other file changed, checks clean and plays from a new game through the office."""

from __future__ import annotations

import hashlib
import re
import shutil

import pytest

from game.authoring.playtest import playtest
from game.cli import main
from game.engine import Game, check
from game.paths import shipped_story_dir

from .conftest import ROOT

GUIDE = ROOT / "docs" / "writing-stories.md"


def recipe_files() -> dict[str, str]:
    """The recipe's files: its YAML blocks whose first line is '# case: PATH'."""
    text = GUIDE.read_text(encoding="utf-8")
    section = text[text.index("### Add a case\n") :]
    section = section[: section.index("\n### ", 1)]
    files = {}
    for block in re.findall(r"```yaml\n(.*?)```", section, re.S):
        first = block.splitlines()[0]
        if first.startswith("# case: "):
            files[first[len("# case: ") :].strip()] = block
    return files


def _digests(root):
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def with_case(tmp_path_factory):
    """(the shipped story copied, the same with the recipe's folder added, the files added)."""
    base = tmp_path_factory.mktemp("case")
    plain = base / "plain"
    shutil.copytree(shipped_story_dir(), plain)
    root = base / "with_case"
    shutil.copytree(shipped_story_dir(), root)
    files = recipe_files()
    for rel, text in files.items():
        assert not (root / rel).exists(), f"{rel} would replace a shipped file"
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return plain, root, files


def test_the_recipe_is_a_folder_of_its_own(with_case):
    plain, root, files = with_case
    assert len(files) >= 2
    folders = {rel.split("/")[0] for rel in files}
    assert len(folders) == 1 and all("/" in rel for rel in files)
    assert not (plain / folders.pop()).exists()
    before, after = _digests(plain), _digests(root)
    # Every shipped file is unchanged; the only new files are the case folder's.
    assert {k: v for k, v in after.items() if k in before} == before
    assert set(after) - set(before) == set(files)


def test_the_story_with_the_case_checks_clean(with_case, capsys):
    plain, root, _files = with_case
    _story, baseline = check(plain, cache_dir=False)
    story, problems = check(root, cache_dir=False)
    assert story is not None, [str(p) for p in problems if p.severity == "error"]
    # No new error or warning: the case adds nothing for an author to fix.
    assert {p.message for p in problems} <= {p.message for p in baseline}
    assert main(["check", str(root)]) == 0
    assert "error" not in capsys.readouterr().out


def test_the_case_is_a_case_of_its_own(with_case):
    _plain, root, _files = with_case
    story, _ = check(root, cache_dir=False)
    assert story is not None
    assert story.character("jo").name == "Jo"
    assert story.variable("jo.trust").initial == 3
    assert story.variable("jo.drugs").initial == 4
    assert story.variable("jo_hope").case == "jo"
    assert any(e.id == "jo_settled" and e.character == "jo" for e in story.endings)


def test_a_new_game_reaches_the_case_through_the_office(with_case):
    _plain, root, _files = with_case
    story, _ = check(root, cache_dir=False)
    assert story is not None
    game = Game(story, seed=5)
    office = story.turns.hub
    wanted = ["Jo's file.", "Meet Jo at the café"]
    seen_office_entry = False
    for _ in range(3000):
        if game.current_node.id == "jo.case.visit" or game.ended:
            break
        options = [o for o in game.choices if o.enabled]
        pick = next((o for o in options if o.text in wanted), options[0])
        if pick.text == wanted[0]:
            assert game.node == office  # the entry is in the office itself
            seen_office_entry = True
        game.choose(pick.index)
    assert seen_office_entry
    assert game.current_node.id == "jo.case.visit"
    assert any("Jo has already ordered" in p for p in game.passage)
    hope, trust = game.get("jo_hope"), game.get("jo.trust")
    game.choose(next(o.index for o in game.choices if o.text == "Listen."))
    assert (game.get("jo_hope"), game.get("jo.trust")) == (hope + 1, trust + 1)
    assert game.current_node.id == "jo.case.file"  # '<hub>' is Jo's file


def test_random_play_with_the_case_never_crashes_and_meets_jo(with_case):
    _plain, root, _files = with_case
    story, _ = check(root, cache_dir=False)
    assert story is not None
    report = playtest(story, 8, seed=2, jobs=1)
    assert report.crash_count == 0
    visits = dict(zip(report.node_ids, report.node_visits, strict=True))
    assert visits["jo.case.file"] > 0 and visits["jo.case.visit"] > 0
    assert "jo_hope" in report.cases()["jo"]["variables"]
