"""How an engine asks the core for a generated password (database credentials, KV rotation).

An engine receives a :class:`PasswordGenerator` as ``ctx.system.generate_password``
and awaits it with the name of a password policy (``sys/policies/password/:name``)
or ``""`` for Vault's default policy (20 characters of ``[a-zA-Z0-9-]`` with at
least one of each class). The core draws from the injected random source, uniformly
over every password the policy admits.

Failure modes: :class:`strongroom.errors.NotFound` when the named policy does not
exist (engines should surface it as a 400 naming their own ``password_policy``
field), :class:`strongroom.errors.InvalidRequest` for an invalid policy name.

``SystemView.generate_password`` is ``None`` outside a core (for instance in a
backend unit test that builds its own :class:`~strongroom.sdk.system.SystemView`);
tests inject any callable with this signature.
"""

from __future__ import annotations

from typing import Protocol


class PasswordGenerator(Protocol):
    """``await generate(policy_name)`` -> a new password from that policy (``""``: the default policy)."""

    async def __call__(self, policy_name: str = "") -> str: ...
