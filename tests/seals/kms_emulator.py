"""moto's KMS emulator in server mode: a real HTTP endpoint on 127.0.0.1 for the awskms seal tests.

moto runs in this (the test) process, in a thread (ThreadedMotoServer). Its
KMS state lives in the process, not in the HTTP server, so :meth:`stop` takes
the endpoint away (KMS "down") and :meth:`start` brings it back on the same
port with the same keys. moto's request recorder is pointed at a temporary
file before moto is imported, so it never writes into the working tree.
"""

from __future__ import annotations

import base64
import json
import logging
import os
from pathlib import Path
from typing import Any

import boto3
import httpx

REGION = "us-east-1"
#: moto accepts any credentials unless its IAM check is switched on (see set_auth).
ACCESS_KEY = "AKIASTRONGROOMTEST01"
SECRET_KEY = "secret-key-canary-0f1e2d3c4b5a"


class KmsEmulator:
    def __init__(self, recording: Path) -> None:
        os.environ["MOTO_RECORDER_FILEPATH"] = str(recording)
        from moto.server import ThreadedMotoServer  # imported only after the recorder path is set

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._factory = ThreadedMotoServer
        self._server: Any = None
        self.port = 0

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start (or restart, on the same port) the endpoint; a no-op while it runs."""
        if self._server is not None:
            return
        server = self._factory(ip_address="127.0.0.1", port=self.port, verbose=False)
        server.start()
        self._server, self.port = server, server.get_host_and_port()[1]

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def client(self) -> Any:
        return boto3.client("kms", region_name=REGION, endpoint_url=self.endpoint,
                            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)

    def create_key(self, **kwargs: Any) -> dict[str, Any]:
        metadata: dict[str, Any] = self.client().create_key(**kwargs)["KeyMetadata"]
        return metadata

    def set_auth(self, enabled: bool) -> None:
        """Switch moto's IAM credential check on (unknown access keys are refused) or off (the default)."""
        body = b"0" if enabled else b"inf"
        assert httpx.post(f"{self.endpoint}/moto-api/reset-auth", content=body).status_code == 200

    def stored_state(self) -> str:
        """moto's whole in-memory model state, as its /moto-api/data.json serialises it."""
        response = httpx.get(f"{self.endpoint}/moto-api/data.json")
        assert response.status_code == 200
        return response.text

    def start_recording(self) -> None:
        assert httpx.post(f"{self.endpoint}/moto-api/recorder/reset-recording").status_code == 200
        assert httpx.post(f"{self.endpoint}/moto-api/recorder/start-recording").status_code == 200

    def stop_recording(self) -> list[dict[str, Any]]:
        """Every request moto received since start_recording: headers, URL and body (decoded)."""
        assert httpx.post(f"{self.endpoint}/moto-api/recorder/stop-recording").status_code == 200
        text = httpx.get(f"{self.endpoint}/moto-api/recorder/download-recording").text
        entries = [json.loads(line) for line in text.splitlines() if line.strip()]
        for entry in entries:
            body = entry.get("body") or ""
            entry["body"] = base64.b64decode(body).decode() if entry.get("body_encoded") else body
        return entries


def server_env(**extra: str) -> dict[str, str]:
    """Environment for a Strongroom process using the emulator: credentials, and no AWS files or metadata."""
    return {
        "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        **extra,
    }
