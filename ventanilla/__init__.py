"""Wiring: settings and the `ventanilla` command line."""
