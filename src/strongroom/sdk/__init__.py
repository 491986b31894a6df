"""Contracts between the core and its plug-ins (storage, engines, auth methods, audit devices)."""
