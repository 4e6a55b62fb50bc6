"""Test tooling shipped with the package (the pytest plugin for ruleset cases)."""
