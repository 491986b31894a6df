"""Strongroom k8s."""
