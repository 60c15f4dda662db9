"""The harness version: one place, read by the package and by the run header."""

__version__ = "0.1.0"
