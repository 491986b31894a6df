"""Metrics for the request path: the observer, node-state collectors, barrier usage and exposition.

The metric objects themselves live in :mod:`strongroom.core.telemetry`.
"""
