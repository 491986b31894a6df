"""What hvac sees for Vault features not built yet: a clear 4xx, never a silent half-answer.

Each row names the issue that will bring the feature (see docs/api-compatibility.md). When one lands,
its row fails here and the table in the doc is due for an update.
"""

from __future__ import annotations

from collections.abc import Callable

import hvac
import hvac.exceptions
import pytest

Call = Callable[[hvac.Client], object]

MISSING: list[tuple[str, Call, type[hvac.exceptions.VaultError], str]] = [
    (
        "identity tokens (OIDC provider): not planned",
        lambda c: c.secrets.identity.list_named_keys(),
        hvac.exceptions.InvalidPath,
        "unsupported path",
    ),
]


@pytest.mark.parametrize(("feature", "call", "error", "wording"), MISSING, ids=[row[0] for row in MISSING])
def test_missing_feature_answers_a_clear_error(
    root: hvac.Client, feature: str, call: Call, error: type[hvac.exceptions.VaultError], wording: str
) -> None:
    with pytest.raises(error, match=wording):
        call(root)
