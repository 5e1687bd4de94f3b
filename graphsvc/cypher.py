"""Cypher statements kept as files under ``cypher/``, loaded by name and checked at start-up.

A name is the file's path below ``cypher/`` without ``.cypher`` (``import/people``).
Each file holds one statement, except ``schema.cypher`` (statements ending in ``;``).
``Queries.text(name, params)`` refuses a call whose parameters differ from the ``$names``
the statement uses, so a mistake fails loudly, never as a silent null.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from graphsvc.errors import ConfigError

_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_COMMENT = re.compile(r"^\s*//.*$", re.MULTILINE)


def cypher_dir() -> Path:
    """The folder of .cypher files: inside the installed package, or the source tree's."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "cypher", here.parent / "cypher"):
        if (candidate / "schema.cypher").is_file():
            return candidate
    raise ConfigError(f"the Cypher files are missing (looked in {here / 'cypher'} and "
                      f"{here.parent / 'cypher'}); reinstall graphsvc")


def strip_comments(text: str) -> str:
    return _COMMENT.sub("", text).strip()


class Queries:
    """Every statement under a folder, by name."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._text: dict[str, str] = {}
        self._params: dict[str, frozenset[str]] = {}
        for f in sorted(folder.rglob("*.cypher")):
            name = f.relative_to(folder).with_suffix("").as_posix()
            body = strip_comments(f.read_text(encoding="utf-8"))
            if not body:
                raise ConfigError(f"the Cypher file {f} is empty")
            self._text[name] = body
            self._params[name] = frozenset(_PARAM.findall(body))

    def require(self, names: Iterable[str]) -> None:
        """Fail now if any of ``names`` has no file."""
        missing = sorted(set(names) - set(self._text))
        if missing:
            raise ConfigError(f"Cypher statements missing from {self.folder}: {', '.join(missing)}")

    def text(self, name: str, params: Iterable[str] = ()) -> str:
        try:
            body = self._text[name]
        except KeyError:
            raise ConfigError(f"no Cypher statement named '{name}' in {self.folder}") from None
        given, used = frozenset(params), self._params[name]
        if given != used:
            raise ConfigError(f"Cypher '{name}' uses {sorted(used)} but was given {sorted(given)}")
        return body

    def statements(self, name: str) -> list[str]:
        """The ';'-separated statements of a file such as ``schema``."""
        return [s.strip() for s in self.text(name, self._params[name]).split(";") if s.strip()]

    def names(self) -> list[str]:
        return sorted(self._text)


@lru_cache(maxsize=1)
def queries() -> Queries:
    return Queries(cypher_dir())
