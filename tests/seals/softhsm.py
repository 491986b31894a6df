"""A throwaway SoftHSM2 token for the pkcs11 seal's tests.

Each token lives in its own directory with its own ``softhsm2.conf``; whoever
loads the library must have ``SOFTHSM2_CONF`` pointing at it (SoftHSM2 reads it
once, when the library is initialised). Keys are generated in a child process so
the test process's own PKCS#11 binding is left untouched.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

LIB = "/usr/lib/softhsm/libsofthsm2.so"
PIN = "4321-test-pin"
SO_PIN = "8765-test-so-pin"

_KEYGEN = """
import sys, pkcs11
from pkcs11 import KeyType
lib = pkcs11.lib(sys.argv[1])
token = lib.get_token(token_label=sys.argv[2])
with token.open(user_pin=sys.argv[3], rw=True) as session:
    for label in sys.argv[4:]:
        session.generate_key(KeyType.AES, 256, label=label, store=True)
"""


@dataclass(frozen=True)
class Token:
    directory: Path
    conf: Path
    label: str
    slot: int

    @property
    def env(self) -> dict[str, str]:
        return {"SOFTHSM2_CONF": str(self.conf)}

    def seal_block(self, key_label: str = "strongroom-seal", pin: str = PIN, *, by_slot: bool = False,
                   slot: int | None = None, token_label: str | None = None) -> str:
        where = f"slot = \"{self.slot if slot is None else slot}\"" if by_slot else \
            f"token_label = \"{token_label or self.label}\""
        return (f'seal "pkcs11" {{\n  lib = "{LIB}"\n  {where}\n  pin = "{pin}"\n'
                f'  key_label = "{key_label}"\n  mechanism = "CKM_AES_GCM"\n}}\n')

    def hide(self) -> Path:
        """Make the token disappear (its files move aside); returns where they went."""
        aside = self.directory / "tokens-away"
        shutil.move(self.directory / "tokens", aside)
        return aside

    def restore(self) -> None:
        shutil.move(self.directory / "tokens-away", self.directory / "tokens")


def make_token(directory: Path, label: str = "strongroom-test", keys: tuple[str, ...] = ("strongroom-seal",)) -> Token:
    """Initialise a token labelled ``label`` in ``directory`` holding AES-256 keys labelled ``keys``."""
    tokens = directory / "tokens"
    tokens.mkdir(parents=True)
    conf = directory / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n")
    env = {**os.environ, "SOFTHSM2_CONF": str(conf)}
    out = subprocess.run(
        ["softhsm2-util", "--init-token", "--free", "--label", label, "--pin", PIN, "--so-pin", SO_PIN],
        env=env, check=True, capture_output=True, text=True,
    ).stdout
    match = re.search(r"reassigned to slot (\d+)", out)
    assert match is not None, out
    subprocess.run([sys.executable, "-c", _KEYGEN, LIB, label, PIN, *keys], env=env, check=True)
    return Token(directory, conf, label, int(match.group(1)))
