"""Reporters: the terminal table, machine-readable output, and the HTML report."""
