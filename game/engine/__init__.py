"""The story engine: load a story, play it, save it. Never imports the UI."""

from .errors import ChoiceError, Problem, SaveError, StoryError, StoryRuntimeError
from .game import Game, Notice, Option
from .load import check, load_story
from .story import Character, Ending, Story, Variable

__all__ = [
    "Character",
    "ChoiceError",
    "Ending",
    "Game",
    "Notice",
    "Option",
    "Problem",
    "SaveError",
    "Story",
    "StoryError",
    "StoryRuntimeError",
    "Variable",
    "check",
    "load_story",
]
