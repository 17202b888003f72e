"""Duplicate clusters: which catalog rows hold the same data, and the evidence for each link.

Plain code (no Dagster): `signals` reads a row's evidence, `names` its names, `links` decides
a pair, `grouping` turns links into clusters without chaining.
"""
