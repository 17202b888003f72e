"""Maintenance of the catalog: the broken-link janitor (SSRF-guarded probes) and cache cleanup."""
