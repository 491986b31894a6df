"""Strongroom audit."""
