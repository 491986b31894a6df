"""The audit broker and everything it writes: Vault-schema entries, HMACs, hash chains, signed checkpoints.

``broker.Auditor`` is the ``core.hooks.AuditBroker`` of a process; ``verify`` proves
a written log intact. The entry format is documented in ``docs/audit.md``.
"""
