"""Builders of source files for the sources tests, and the bad-input corpus (`corpus.py`)."""
