"""Tracklog."""
