"""Fake source services speaking the real wire formats, shared by tests and benchmarks."""
