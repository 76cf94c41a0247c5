"""Deterministic generator of the demo source files (see docs/DEMO_SOURCES.md).

Use `cakupan.demo.generate.generate(out_dir)` or `python -m cakupan.demo.generate --out DIR`.
"""
