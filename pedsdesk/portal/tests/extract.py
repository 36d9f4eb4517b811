"""Find the strings the portal marks for translation (xgettext is not installed)."""

import ast
import io
import tokenize
from pathlib import Path

from django.utils.translation.template import templatize

PORTAL_DIR = Path(__file__).resolve().parents[1]
_PY_FUNCS = {"_", "gettext", "gettext_lazy", "ngettext", "ngettext_lazy", "pgettext", "pgettext_lazy"}
_TEMPLATE_FUNCS = {"gettext", "ngettext", "pgettext", "npgettext"}


def _message(func: str, args: list[str]) -> tuple[str | None, str, str | None]:
    """(context, msgid, msgid_plural) from a gettext-family call's string arguments."""
    if func.startswith("np"):
        return args[0], args[1], args[2]
    if func.startswith("p"):
        return args[0], args[1], None
    if func.startswith("n"):
        return None, args[0], args[1]
    return None, args[0], None


def template_messages(path: Path) -> set[tuple]:
    found = set()
    tokens = list(tokenize.generate_tokens(io.StringIO(templatize(path.read_text(), origin=str(path))).readline))
    for i, tok in enumerate(tokens):
        if tok.type == tokenize.NAME and tok.string in _TEMPLATE_FUNCS and tokens[i + 1].string == "(":
            args = []
            for arg in tokens[i + 2:]:
                if arg.string == ")":
                    break
                if arg.type == tokenize.STRING:
                    args.append(ast.literal_eval(arg.string))
            found.add(_message(tok.string, args))
    return found


def python_messages(path: Path) -> set[tuple]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _PY_FUNCS:
            args = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            name = {"_": "gettext"}.get(node.func.id, node.func.id).removesuffix("_lazy")
            found.add(_message(name, args))
    return found


def portal_messages() -> set[tuple]:
    found = set()
    for path in PORTAL_DIR.rglob("*.html"):
        found |= template_messages(path)
    for path in PORTAL_DIR.rglob("*.py"):
        if "tests" not in path.parts and "migrations" not in path.parts:
            found |= python_messages(path)
    return found
