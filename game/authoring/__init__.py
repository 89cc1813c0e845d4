"""Tools for story authors: the story map, statistics, the JSON Schema and extra checks.

Pure Python over the engine's checked IR; nothing here imports Textual.
"""
