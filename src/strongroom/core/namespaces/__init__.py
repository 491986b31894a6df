"""Vault namespaces: isolated tenants, each with its own mounts, policies, tokens and leases.

``model`` (the table, ids, paths), ``scope`` (one namespace's services over its own
barrier prefix), ``manager`` (every namespace of the node, request resolution,
create/delete), ``sys_paths`` (``sys/namespaces``). See ``docs/namespaces.md``.
"""
