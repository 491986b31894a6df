"""Entry points: read a configuration file or text into a ``ServerConfig``."""

from __future__ import annotations

from strongroom.config.build import build_config
from strongroom.config.locate import SourceMap
from strongroom.config.model import ServerConfig
from strongroom.config.syntax import parse_source
from strongroom.errors import ConfigError


def parse_config(text: str, filename: str) -> ServerConfig:
    """Parse HCL or JSON configuration ``text``; ``filename`` is used in messages only.

    Raises ConfigError naming the file, the line and the key for syntax
    errors, unknown keys, values of the wrong type and inconsistent settings.
    """
    data = parse_source(text, filename)
    return build_config(data, filename, SourceMap(text))


def load_config(path: str) -> ServerConfig:
    """Read and parse the configuration file at ``path``.

    Raises ConfigError when the file cannot be read or is not valid UTF-8,
    and everything :func:`parse_config` raises.
    """
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read configuration file: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: configuration file is not valid UTF-8") from None
    return parse_config(text, path)
