"""Maintenance: the link janitor and cache cleanup assets, and the daily maintenance schedules."""
