from game.engine import Game, load_story

from .conftest import STORIES


def test_basic_story_plays_to_its_ending():
    story = load_story(STORIES / "basic", cache_dir=False)
    game = Game(story, seed=1)
    assert game.passage[0].startswith("Hello Becky")
    while not game.ended:
        game.choose(0)
    assert game.ending.id == "end"
