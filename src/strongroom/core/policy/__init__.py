"""ACL policies: canonical paths, policy names, parsing, the ACL engine and the policy store.

Modules, one job each:

* :mod:`.canonical` - the one canonical spelling of request paths and policy patterns;
* :mod:`.names` - policy-name normalisation and the reserved ``root`` / ``default`` names;
* :mod:`.syntax` / :mod:`.parser` - policy text (HCL or JSON) to :class:`Policy`;
* :mod:`.matching` / :mod:`.merge` / :mod:`.params` / :mod:`.acl` - the ACL engine;
* :mod:`.store` / :mod:`.default` - named policies in storage and the built-in default policy.
"""

from strongroom.core.policy.acl import ACL, Decision
from strongroom.core.policy.canonical import canonical_policy_path, canonical_request_path
from strongroom.core.policy.model import ROOT_POLICY, PathRule, Policy
from strongroom.core.policy.names import is_reserved, normalize_policy_name
from strongroom.core.policy.parser import parse_policy
from strongroom.core.policy.store import PolicyStore

__all__ = [
    "ACL",
    "ROOT_POLICY",
    "Decision",
    "PathRule",
    "Policy",
    "PolicyStore",
    "canonical_policy_path",
    "canonical_request_path",
    "is_reserved",
    "normalize_policy_name",
    "parse_policy",
]
