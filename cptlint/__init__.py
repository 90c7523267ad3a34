"""cptlint: a linter for therapy billing encounter files."""

__version__ = "0.1.0"
