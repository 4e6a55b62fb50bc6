"""Request and response bodies, as pydantic models: they validate and they document.

Request models forbid unknown fields, so a misspelt field is a 400 that
names it rather than a value silently ignored.
"""
