"""The CLI's subcommands, one module per Vault command family; each has ``register(group)``."""
