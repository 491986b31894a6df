"""Rate-limit quotas (Vault's ``sys/quotas/rate-limit``): stored in the barrier, counted node-wide."""
