"""Strongroom's cryptographic core. See docs/crypto.md for the formats and the threat model.

* ``barrier``  -- encrypting storage over an untrusted backend (keyring terms, seal/unseal, rotation)
* ``view``     -- a prefix view a mount cannot escape
* ``keyring``  -- the data-encryption keys, one per term
* ``rootkey``  -- the root key and its wrapping under the unseal key
* ``shamir``   -- secret sharing of the unseal key over GF(2^8)
* ``aead``     -- AES-256-GCM plumbing, private to this package
"""
