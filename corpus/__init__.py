"""Shared engine of the feedback-corpus template and the `corpusctl` command."""

__version__ = "0.1.0"
