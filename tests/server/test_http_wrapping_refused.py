"""Until response wrapping exists, a request asking for it is refused rather than answered in clear."""

from __future__ import annotations

import httpx


def test_wrap_ttl_header_is_refused_and_reveals_nothing(dev_server: tuple[str, str]) -> None:
    address, token = dev_server
    httpx.post(f"{address}/v1/secret/data/wrapme", headers={"X-Vault-Token": token},
               json={"data": {"pw": "wrapped-canary-1"}})
    resp = httpx.get(f"{address}/v1/secret/data/wrapme", headers={"X-Vault-Token": token, "X-Vault-Wrap-TTL": "60"})
    assert resp.status_code == 400
    assert "wrapped-canary-1" not in resp.text
    assert "wrapping" in resp.json()["errors"][0]
