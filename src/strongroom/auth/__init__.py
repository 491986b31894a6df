"""Strongroom auth."""
