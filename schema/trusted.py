"""Trusted documents: the operations partner banks may run, registered by the SHA-256 of their text.

The list is generated from ``schema/trusted/*.graphql`` by ``gateway trusted-documents`` into
``schema/trusted-documents.json`` (a test keeps the two in step). Each named operation becomes one document;
clients send ``extensions.persistedQuery.sha256Hash`` (APQ style), with or without the text.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from graphql import OperationDefinitionNode, parse, print_ast
from graphql.language import DocumentNode

SOURCE_DIR = Path(__file__).with_name("trusted")
REGISTRY = Path(__file__).with_name("trusted-documents.json")


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def build_registry(source_dir: Path = SOURCE_DIR) -> dict[str, dict[str, str]]:
    """hash → {"name", "document"}: one entry per named operation, in graphql-core's canonical print."""
    registry: dict[str, dict[str, str]] = {}
    for path in sorted(source_dir.glob("*.graphql")):
        for definition in parse(path.read_text(encoding="utf-8")).definitions:
            if not isinstance(definition, OperationDefinitionNode) or definition.name is None:
                raise ValueError(f"{path.name}: every trusted operation must be a named operation")
            document = print_ast(DocumentNode(definitions=(definition,)))
            registry[sha256(document)] = {"name": definition.name.value, "document": document}
    return registry


def render(registry: dict[str, dict[str, str]]) -> str:
    return json.dumps(registry, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


class TrustedDocuments:
    """The registry as loaded at start."""

    def __init__(self, path: Path = REGISTRY) -> None:
        raw = json.loads(path.read_text(encoding="utf-8"))
        self.by_hash: dict[str, str] = {h: entry["document"] for h, entry in raw.items()}

    def document(self, digest: str) -> str | None:
        return self.by_hash.get(digest)

    def trusts(self, query: str) -> bool:
        return sha256(query) in self.by_hash
