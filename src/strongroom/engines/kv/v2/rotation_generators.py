"""The new values a rotation writes: a password, random bytes, a key pair, or a webhook's answer.

Each generator answers the fields to set in the secret's new version. Errors
name the generator and what went wrong, never a value.
"""

from __future__ import annotations

import asyncio
import base64
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from strongroom.errors import InternalError, InvalidRequest, NotFound
from strongroom.sdk.egress import EgressPolicy
from strongroom.sdk.system import SystemView

from .rotation_model import RotationPolicy
from .rotation_webhook import fetch_value

_CURVES: dict[int, ec.EllipticCurve] = {256: ec.SECP256R1(), 384: ec.SECP384R1(), 521: ec.SECP521R1()}


async def password(policy: RotationPolicy, system: SystemView) -> str:
    """A password from the named policy (``""``: Vault's default). A missing policy is a 400 naming it."""
    if system.generate_password is None:
        raise InternalError("password policies are not available to this mount")
    try:
        return await system.generate_password(policy.password_policy)
    except NotFound:
        raise InvalidRequest(f"password policy {policy.password_policy!r} does not exist") from None


def random_value(policy: RotationPolicy, system: SystemView) -> str:
    raw = system.random_bytes(policy.bytes)
    return raw.hex() if policy.encoding == "hex" else base64.b64encode(raw).decode()


def keypair(policy: RotationPolicy) -> tuple[str, str]:
    """(private key PEM in PKCS #8, public key PEM in SubjectPublicKeyInfo)."""
    private: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
    if policy.key_type == "rsa":
        private = rsa.generate_private_key(public_exponent=65537, key_size=policy.key_bits)
    elif policy.key_type == "ec":
        private = ec.generate_private_key(_CURVES[policy.key_bits])
    else:
        private = ed25519.Ed25519PrivateKey.generate()
    private_pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    return private_pem, public_pem


async def generate(
    policy: RotationPolicy, system: SystemView, egress: EgressPolicy, describe: dict[str, Any]
) -> dict[str, str]:
    """The fields a rotation sets. ``describe`` (mount, path, field, version; no value) goes to a webhook."""
    if policy.generator == "password":
        return {policy.key: await password(policy, system)}
    if policy.generator == "random":
        return {policy.key: random_value(policy, system)}
    if policy.generator == "keypair":
        # An RSA key takes a noticeable moment to generate: off the event loop.
        private_pem, public_pem = await asyncio.to_thread(keypair, policy)
        return {policy.key: private_pem, policy.public_key: public_pem}
    return {policy.key: await fetch_value(policy.url, describe, egress)}
