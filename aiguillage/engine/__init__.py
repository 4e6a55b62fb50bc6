"""Compiler from checked rules to Python, runtime, Decision, explain."""
