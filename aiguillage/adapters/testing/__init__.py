"""Real counterparts on loopback for the adapters' tests (and the worker's and benchmarks' later).

Each server binds 127.0.0.1 on a port the OS picks, runs in a background
thread, records what it received, and is a context manager that stops it and
its threads on exit. Nothing here is used by the product at run time.
"""
