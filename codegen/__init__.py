"""The code generator: spec dump/merge (dump.py), spec model (spec.py), generator."""
