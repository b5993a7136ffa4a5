"""The shared fixtures (tests/support.py) for every test: those in tests/ and those beside
the channels (bot/channels/<name>/tests/)."""

pytest_plugins = ["tests.support"]
