"""The conversation: one dialogue engine and thin adapters for each chat channel."""
