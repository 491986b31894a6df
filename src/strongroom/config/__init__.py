"""Strongroom config."""
