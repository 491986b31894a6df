"""Strongroom crypto."""
