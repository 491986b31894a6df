"""Show assertion details from the shared conformance suite, which lives outside tests/."""

import pytest

pytest.register_assert_rewrite("strongroom.sdk.testing")
