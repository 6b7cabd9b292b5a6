"""costlog: an honest, reviewable ledger of what AI coding agents cost."""

__version__ = "0.1.0"
