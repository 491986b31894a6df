"""Strongroom http."""
