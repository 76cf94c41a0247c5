"""Shared pieces of Cakupan's DAGs (not DAG files: listed in .airflowignore)."""
