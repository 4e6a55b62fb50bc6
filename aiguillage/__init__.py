"""Aiguillage: rules-driven customer e-invoicing (enrich, validate, route)."""

__version__ = "0.1.0"
