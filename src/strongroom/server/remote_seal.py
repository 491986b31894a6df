"""A worker's view of the node's seal: every call goes to the supervisor, which owns it."""

from __future__ import annotations

from typing import Any

from strongroom.core.seal import SealManager
from strongroom.server.ipc import Channel


class RemoteSealManager(SealManager):
    def __init__(self, channel: Channel) -> None:
        self._channel = channel

    async def status(self) -> dict[str, Any]:
        result: dict[str, Any] = await self._channel.call("seal_status")
        return result

    async def initialize(
        self, secret_shares: int, secret_threshold: int, recovery_shares: int = 0, recovery_threshold: int = 0
    ) -> dict[str, Any]:
        result: dict[str, Any] = await self._channel.call(
            "init",
            {
                "secret_shares": secret_shares,
                "secret_threshold": secret_threshold,
                "recovery_shares": recovery_shares,
                "recovery_threshold": recovery_threshold,
            },
        )
        return result

    async def unseal(self, key: str | None, reset: bool, migrate: bool = False) -> dict[str, Any]:
        result: dict[str, Any] = await self._channel.call("unseal", {"key": key, "reset": reset, "migrate": migrate})
        return result

    async def seal(self) -> None:
        await self._channel.call("seal")

    async def rotate(self) -> dict[str, Any]:
        result: dict[str, Any] = await self._channel.call("rotate")
        return result

    async def generate_root_status(self) -> dict[str, Any]:
        result: dict[str, Any] = await self._channel.call("generate_root_status")
        return result

    async def generate_root_start(self, otp: str | None, pgp_key: str | None) -> dict[str, Any]:
        result: dict[str, Any] = await self._channel.call("generate_root_start", {"otp": otp, "pgp_key": pgp_key})
        return result

    async def generate_root_update(self, key: str | None, nonce: str | None) -> dict[str, Any]:
        result: dict[str, Any] = await self._channel.call("generate_root_update", {"key": key, "nonce": nonce})
        return result

    async def generate_root_cancel(self, nonce: str | None) -> None:
        await self._channel.call("generate_root_cancel", {"nonce": nonce})

    async def rekey_status(self, recovery: bool = False) -> dict[str, Any]:
        result: dict[str, Any] = await self._channel.call("rekey_status", {"recovery": recovery})
        return result

    async def rekey_start(
        self, secret_shares: int, secret_threshold: int, require_verification: bool = False, recovery: bool = False
    ) -> dict[str, Any]:
        args = {
            "secret_shares": secret_shares,
            "secret_threshold": secret_threshold,
            "require_verification": require_verification,
            "recovery": recovery,
        }
        result: dict[str, Any] = await self._channel.call("rekey_start", args)
        return result

    async def rekey_update(self, key: str | None, nonce: str | None, recovery: bool = False) -> dict[str, Any]:
        args = {"key": key, "nonce": nonce, "recovery": recovery}
        result: dict[str, Any] = await self._channel.call("rekey_update", args)
        return result

    async def rekey_cancel(self, nonce: str | None, recovery: bool = False) -> None:
        await self._channel.call("rekey_cancel", {"nonce": nonce, "recovery": recovery})

    async def rekey_verify_status(self, recovery: bool = False) -> dict[str, Any]:
        result: dict[str, Any] = await self._channel.call("rekey_verify_status", {"recovery": recovery})
        return result

    async def rekey_verify_update(
        self, key: str | None, nonce: str | None, recovery: bool = False
    ) -> dict[str, Any]:
        args = {"key": key, "nonce": nonce, "recovery": recovery}
        result: dict[str, Any] = await self._channel.call("rekey_verify_update", args)
        return result

    async def rekey_verify_cancel(self, nonce: str | None, recovery: bool = False) -> dict[str, Any]:
        args = {"nonce": nonce, "recovery": recovery}
        result: dict[str, Any] = await self._channel.call("rekey_verify_cancel", args)
        return result
