"""``make bench``: this app against the alternatives, on this machine (see docs/benchmarks.md).

Not part of the app or its tests. ``python -m bench.run`` does everything.
"""
