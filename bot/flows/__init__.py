"""Dialogue flows, one module per thing a citizen comes to do."""
