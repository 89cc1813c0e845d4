"""The screens of the game, each imported when first shown."""
