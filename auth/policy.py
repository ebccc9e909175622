"""The scope policy file: loaded at start, read again whenever the file changes (no restart needed)."""

from __future__ import annotations

import os
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

DEFAULT_POLICY = Path(__file__).with_name("policy.toml")

SCOPES = frozenset(
    {
        "PERMITS_READ",
        "BILLING_READ",
        "PAYMENTS_MAKE",
        "DOCUMENTS_READ",
        "APPLICATIONS_SUBMIT",
        "REPORTS_GENERATE",
        "CONTACTS_UPDATE",
        "REPRESENTATIVES_MANAGE",
    }
)


# Told of every reload with the new version and the file's path: the audit journal records it (API.md).
OnReload = Callable[[int, str], None]


class PolicyError(ValueError):
    """The policy file is malformed; the message names the problem."""


@dataclass(frozen=True)
class Policy:
    """One version of the policy."""

    version: int
    by_kind: dict[str, frozenset[str]]
    removed_by_arrangement: dict[str, frozenset[str]]

    def effective(self, kind: str, arrangement: str, mandate: frozenset[str] | None) -> frozenset[str]:
        """The scopes of a user on a client; ``mandate`` is None when the user is the client itself."""
        scopes = self.by_kind.get(kind, frozenset()) - self.removed_by_arrangement.get(
            arrangement, frozenset()
        )
        return scopes if mandate is None else scopes & mandate

    @cached_property
    def unconditional(self) -> frozenset[str]:
        """The scopes every client has whatever its kind and billing arrangement: for these the client's
        record adds nothing to the decision, the mandate alone decides."""
        common = frozenset.intersection(*self.by_kind.values())
        return common.difference(*self.removed_by_arrangement.values())

    @classmethod
    def parse(cls, text: str) -> Policy:
        try:
            raw = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise PolicyError(f"not valid TOML: {exc}") from exc
        kinds = {kind: _scopes(f"kinds.{kind}", v) for kind, v in raw.get("kinds", {}).items()}
        if set(kinds) != {"NATURAL_PERSON", "LEGAL_PERSON"}:
            raise PolicyError("[kinds] must list exactly NATURAL_PERSON and LEGAL_PERSON")
        removes = {
            name: _scopes(f"arrangements.{name}.removes", section.get("removes", []))
            for name, section in raw.get("arrangements", {}).items()
        }
        version = raw.get("version")
        if not isinstance(version, int):
            raise PolicyError("'version' must be a whole number")
        return cls(version=version, by_kind=kinds, removed_by_arrangement=removes)


def _scopes(where: str, value: object) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        raise PolicyError(f"{where} must be a list of scope names")
    unknown = set(value) - SCOPES
    if unknown:
        raise PolicyError(f"{where} names unknown scopes: {', '.join(sorted(unknown))}")
    return frozenset(value)


class PolicyFile:
    """Holds the current policy and re-reads the file when its modification time changes.

    The file is looked at no more than once per ``check_every`` seconds; a malformed edit keeps the last good
    policy in force (and is reported by ``last_error``), so a typo never opens or closes access by accident.
    ``on_reload(version, path)`` is called after each successful reload (not the first load).
    """

    def __init__(
        self, path: str | Path | None = None, check_every: float = 1.0, on_reload: OnReload | None = None
    ) -> None:
        self.path = Path(path) if path else DEFAULT_POLICY
        self.check_every = check_every
        self.on_reload = on_reload
        self.last_error: str | None = None
        self._mtime = os.stat(self.path).st_mtime_ns
        self._policy = Policy.parse(self.path.read_text(encoding="utf-8"))
        self._checked = time.monotonic()

    def current(self) -> Policy:
        now = time.monotonic()
        if now - self._checked >= self.check_every:
            self._checked = now
            self._reload_if_changed()
        return self._policy

    def _reload_if_changed(self) -> None:
        try:
            mtime = os.stat(self.path).st_mtime_ns
            if mtime == self._mtime:
                return
            self._policy = Policy.parse(self.path.read_text(encoding="utf-8"))
            self._mtime = mtime
            self.last_error = None
        except (OSError, PolicyError) as exc:
            self.last_error = str(exc)
            return
        if self.on_reload is not None:
            self.on_reload(self._policy.version, str(self.path))
