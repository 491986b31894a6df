"""Auto-unseal seals: each module implements :class:`strongroom.sdk.seal.Seal` against one key service.

Seals import only the sdk (and crypto recipes); the server's composition root
builds them from the configuration's ``seal "type" { ... }`` block.
"""
