"""Maintenance of the catalog: the broken-link janitor, cache cleanup, asset checks, schedules."""
