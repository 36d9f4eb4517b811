"""Interop stands on other apps' public APIs only: no underscore names, no management commands."""

import ast
from pathlib import Path

INTEROP = Path(__file__).resolve().parents[1]


def test_interop_imports_no_private_name_of_another_app():
    found = []
    for path in INTEROP.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.ImportFrom) or not (node.module or "").startswith("pedsdesk."):
                continue
            if node.module.startswith("pedsdesk.interop"):
                continue
            private = [a.name for a in node.names if a.name.startswith("_")]
            if private or ".management." in node.module:
                found.append(f"{path.relative_to(INTEROP)}:{node.lineno} {node.module} {private}")
    assert found == []
