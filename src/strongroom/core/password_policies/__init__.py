"""Password policies (``sys/policies/password``): Vault's HCL rules for generated passwords.

* :mod:`.model` parses and validates policy text into a :class:`PasswordPolicy`.
* :mod:`.generator` draws passwords exactly uniformly from the strings a policy allows.
* :mod:`.store` keeps named policies in the barrier and serves engines through
  :class:`strongroom.sdk.passwords.PasswordGenerator`.
* :mod:`.sys_paths` declares the ``sys/policies/password`` endpoints.
"""

from strongroom.core.password_policies.generator import PasswordSampler
from strongroom.core.password_policies.model import DEFAULT_POLICY, CharsetRule, PasswordPolicy, parse_password_policy
from strongroom.core.password_policies.store import PasswordPolicyStore

__all__ = [
    "DEFAULT_POLICY",
    "CharsetRule",
    "PasswordPolicy",
    "PasswordPolicyStore",
    "PasswordSampler",
    "parse_password_policy",
]
