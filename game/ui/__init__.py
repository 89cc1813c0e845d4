"""The Textual user interface. Only `iom play` imports it."""
