"""Straight and Narrow: an interactive story about Integrated Offender Management."""

__version__ = "0.1.0"
