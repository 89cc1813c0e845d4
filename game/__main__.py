from game.cli import entry

entry()
