"""The version, kept in a module of its own so `losscli --version` imports nothing else."""

__version__ = "0.1.0"
