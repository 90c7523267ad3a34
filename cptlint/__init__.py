"""cptlint: a linter for therapy billing encounter files and the claims billing systems emit."""

__version__ = "0.1.0"
