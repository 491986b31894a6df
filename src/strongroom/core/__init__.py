"""Strongroom core."""
