"""Strongroom engines."""
