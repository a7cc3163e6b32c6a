"""Every message key the code can use, found by reading the source (``ast``), with the
parameters each use site passes.

Keys come from:

* ``key="a.b"`` on any call (errors, ``expired(…, key=…)``, ``locale_str`` helpers) and
  ``kw.setdefault("key", "a.b")``;
* helpers that build the key from a parameter (``_refuse(message, key)`` → ``f"image.{key}"``):
  resolved at their call sites, in their module and where they are imported;
* ``f"quota.{code}"`` next to ``_QUOTA_CODES[code]``: every key of that table;
* ``message, key = _cancel_refusal(…)``: every key that function returns;
* ``t(locale, "a.b")``, ``error_text(locale, "a.b", …)`` and the declarations ``ls("a.b")``
  and ``N_("a.b")`` (keys chosen at run time are declared with ``N_``).

A key this cannot resolve is reported, so a new way of naming keys has to be taught here
rather than slip past the catalog test.
"""

from __future__ import annotations

import ast
import importlib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("core", "providers", "cogs", "bot")
#: functions whose first string argument is a catalog key
DECLARE = {"ls", "N_"}
#: functions whose string arguments are option names, each with its key ``opt.<name>``
OPTION_NAMES = "option_names"
#: functions whose second argument is a catalog key
LOOKUP = {"t", "error_text", "say"}


@dataclass
class Use:
    """One place a key is used: where, and the parameter names passed (None: not known)."""

    where: str
    params: frozenset[str] | None


@dataclass
class Found:
    uses: dict[str, list[Use]] = field(default_factory=dict)
    unresolved: list[str] = field(default_factory=list)

    def add(self, key: str, where: str, params: frozenset[str] | None) -> None:
        self.uses.setdefault(key, []).append(Use(where, params))


@dataclass(frozen=True)
class Helper:
    """A function that makes a key from one of its parameters."""

    module: str
    name: str
    key_param: str
    key_index: int | None  # positional index of the key parameter (None: keyword-only)
    prefix: str
    kwargs: str | None  # name of its ``**params``, passed on as the error's params
    own: frozenset[str]  # its named parameters (not params of the message)


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def _params_of(call: ast.Call, helper: Helper | None = None) -> frozenset[str] | None:
    for kw in call.keywords:
        if kw.arg == "params":
            if isinstance(kw.value, ast.Dict):
                keys = [k.value for k in kw.value.keys if isinstance(k, ast.Constant)]
                return frozenset(str(k) for k in keys)
            if isinstance(kw.value, ast.Name) and helper is None:
                return None  # forwarded from a caller
            return None
    if helper is not None and helper.kwargs is not None:
        return frozenset(k.arg for k in call.keywords if k.arg and k.arg not in helper.own)
    return frozenset()


def _functions(tree: ast.AST) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]


def _enclosing(tree: ast.AST) -> dict[int, ast.FunctionDef | ast.AsyncFunctionDef]:
    """Call node id → the innermost function containing it."""
    inside: dict[int, ast.FunctionDef | ast.AsyncFunctionDef] = {}
    for func in _functions(tree):
        for node in ast.walk(func):
            inside[id(node)] = func  # inner functions come later and overwrite
    return inside


def _key_template(value: ast.expr) -> tuple[str, str] | None:
    """``f"prefix.{name}"`` → (prefix, name)."""
    if isinstance(value, ast.JoinedStr) and len(value.values) == 2:
        head, tail = value.values
        if (
            isinstance(head, ast.Constant)
            and isinstance(tail, ast.FormattedValue)
            and isinstance(tail.value, ast.Name)
        ):
            return str(head.value), tail.value.id
    return None


def collect() -> Found:
    found = Found()
    trees = {
        _module_name(p): (p, ast.parse(p.read_text(encoding="utf-8")))
        for pkg in PACKAGES
        for p in sorted((ROOT / pkg).rglob("*.py"))
    }
    helpers: list[Helper] = []
    for module, (path, tree) in trees.items():
        inside = _enclosing(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            _declared(node, where, found)
            _setdefault(node, where, found)
            for kw in node.keywords:
                if kw.arg != "key":
                    continue
                value = kw.value
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    found.add(value.value, where, _params_of(node))
                    continue
                func = inside.get(id(node))
                args = func.args if func else None
                names = [a.arg for a in (*args.posonlyargs, *args.args)] if args else []
                kwonly = [a.arg for a in args.kwonlyargs] if args else []
                template = _key_template(value)
                prefix, var = template if template else ("", getattr(value, "id", ""))
                if func is not None and var in (*names, *kwonly) and (template or var):
                    index = names.index(var) if var in names else None
                    if index is not None and names and names[0] in ("self", "cls"):
                        index -= 1
                    helpers.append(
                        Helper(
                            module,
                            func.name,
                            var,
                            index,
                            prefix,
                            args.kwarg.arg if args and args.kwarg else None,
                            frozenset((*names, *kwonly)),
                        )
                    )
                    continue
                tabled = bool(template) and _table(module, node, var, prefix, where, found)
                returned = (
                    bool(var) and func is not None and _returned(tree, func, var, where, found)
                )
                # sort keys (``sorted(key=…)``, ``max(key=rank)``) are not message keys
                sort_key = isinstance(value, ast.Lambda) or var == "rank"
                if not (tabled or returned or sort_key):
                    found.unresolved.append(f"{where} key={ast.unparse(value)}")
    for helper in helpers:
        _resolve(helper, trees, found)
    return found


def _declared(node: ast.Call, where: str, found: Found) -> None:
    name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
    if name == OPTION_NAMES:
        for arg in node.args:
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                found.add(f"opt.{arg.value}", where, None)
    if name in DECLARE and node.args:
        arg = node.args[0]
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            found.add(arg.value, where, None)
    if name in LOOKUP and len(node.args) >= 2:
        arg = node.args[1]
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            names = frozenset(k.arg for k in node.keywords if k.arg)
            found.add(
                arg.value, where, None if any(k.arg is None for k in node.keywords) else names
            )


def _setdefault(node: ast.Call, where: str, found: Found) -> None:
    if getattr(node.func, "attr", None) == "setdefault" and len(node.args) == 2:
        name, value = node.args
        if (
            isinstance(name, ast.Constant)
            and name.value == "key"
            and isinstance(value, ast.Constant)
        ):
            found.add(str(value.value), where, None)


def _table(module: str, node: ast.Call, var: str, prefix: str, where: str, found: Found) -> bool:
    """``key=f"quota.{code}"`` beside ``_QUOTA_CODES[code]``: every key of that table."""
    for sub in ast.walk(node):
        if (
            isinstance(sub, ast.Subscript)
            and isinstance(sub.value, ast.Name)
            and isinstance(sub.slice, ast.Name)
            and sub.slice.id == var
        ):
            table = getattr(importlib.import_module(module), sub.value.id)
            for k in table:
                found.add(f"{prefix}{k}", where, _params_of(node))
            return True
    return False


def _returned(tree: ast.Module, func: ast.AST, var: str, where: str, found: Found) -> bool:
    """``message, key = f(…)``: every key (second item) ``f`` returns."""
    for node in ast.walk(func):
        if not (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)):
            continue
        target = node.targets[0]
        if not (
            isinstance(target, ast.Tuple) and var in [getattr(e, "id", "") for e in target.elts]
        ):
            continue
        index = [getattr(e, "id", "") for e in target.elts].index(var)
        callee = getattr(node.value.func, "id", "")
        for fn in _functions(tree):
            if fn.name != callee:
                continue
            for ret in ast.walk(fn):
                if isinstance(ret, ast.Return) and isinstance(ret.value, ast.Tuple):
                    item = ret.value.elts[index]
                    if isinstance(item, ast.Constant):
                        found.add(str(item.value), where, None)
            return True
    return False


def _resolve(helper: Helper, trees: dict[str, tuple[Path, ast.Module]], found: Found) -> None:
    for module, (path, tree) in trees.items():
        if module != helper.module and not _imports(tree, helper):
            continue
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name != helper.name:
                continue
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            arg: ast.expr | None = None
            if helper.key_index is not None and len(node.args) > helper.key_index:
                arg = node.args[helper.key_index]
            arg = next((k.value for k in node.keywords if k.arg == helper.key_param), arg)
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                found.add(helper.prefix + arg.value, where, _params_of(node, helper))
            elif (
                arg is not None
                and not (isinstance(arg, ast.Name) and arg.id == helper.key_param)
                and not _option_name_key(arg)
            ):
                found.unresolved.append(f"{where} {helper.name}(… {ast.unparse(arg)} …)")


def _imports(tree: ast.Module, helper: Helper) -> bool:
    return any(
        isinstance(n, ast.ImportFrom)
        and n.module == helper.module
        and any(a.name == helper.name for a in n.names)
        for n in ast.walk(tree)
    )


def _option_name_key(arg: ast.expr) -> bool:
    """``ls(f"opt.{n}")`` inside ``option_names``: its keys are collected from its calls."""
    template = _key_template(arg)
    return template is not None and template[0] == "opt."
