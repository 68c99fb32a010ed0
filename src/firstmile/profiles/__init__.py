"""Profiles: the unified, consented view of one person."""
