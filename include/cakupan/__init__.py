"""Cakupan: JKN coverage warehouse."""
