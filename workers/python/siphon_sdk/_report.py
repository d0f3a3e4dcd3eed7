"""Why a test failed, as the report prints it: the frames of the test's own code (file:line,
relative to the folder the run started in) and, for a failed ``assert``, the values of its
operands that can be read again without side effects (``assert 404 == 200``, ``where
resp.status = 404``)."""

import ast
import linecache
import os
import traceback

_HIDDEN = ("/siphon_sdk/", "/testing/pytest.py", "/lib/siphon/siphon/", "<frozen ")
_cwd = "/"


def set_cwd(cwd):
    """Where the run started: report paths are relative to it."""
    global _cwd
    _cwd = cwd


def rel(path):
    """``path`` relative to where the run started, when it is below it."""
    return os.path.relpath(path, _cwd) if path.startswith(_cwd.rstrip("/") + "/") else path


def describe(exc):
    """The failure as the report shows it."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if not any(h in f.filename for h in _HIDDEN)]
    lines = []
    for f in frames:
        lines.append(f"{rel(f.filename)}:{f.lineno}: in {f.name}")
        if f.line:
            lines.append(f"    {f.line.strip()}")
    detail = "".join(traceback.format_exception_only(type(exc), exc)).rstrip()
    if isinstance(exc, AssertionError):
        where = _explain(exc)
        if where:
            detail = where[0] if not str(exc) else f"AssertionError: {exc}\n{where[0]}"
            detail += "".join(f"\n  where {w}" for w in where[1:])
    lines.append(detail)
    return "\n".join(lines)


_SAFE = (ast.Name, ast.Attribute, ast.Subscript, ast.Constant, ast.UnaryOp)


def _safe(node):
    """Expressions that can be evaluated again without side effects."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.Name):
        return True
    if isinstance(node, ast.Attribute):
        return _safe(node.value)
    if isinstance(node, ast.Subscript):
        return _safe(node.value) and _safe(node.slice)
    if isinstance(node, ast.UnaryOp):
        return _safe(node.operand)
    return False


def _explain(exc):
    """``assert a == b`` → ``assert 404 == 200`` and ``where resp.status = 404``."""
    tb = exc.__traceback__
    while tb.tb_next is not None:
        tb = tb.tb_next
    frame, lineno = tb.tb_frame, tb.tb_lineno
    try:
        tree = ast.parse("".join(linecache.getlines(frame.f_code.co_filename)))
    except SyntaxError:
        return []
    node = next((n for n in ast.walk(tree) if isinstance(n, ast.Assert)
                 and n.lineno <= lineno <= (n.end_lineno or n.lineno)), None)
    if node is None:
        return []
    parts = [node.test.left, *node.test.comparators] if isinstance(node.test, ast.Compare) \
        else [node.test]
    shown, where = [], []
    for part in parts:
        text = ast.unparse(part)
        if not _safe(part):
            shown.append(text)
            continue
        try:
            value = repr(eval(compile(ast.Expression(part), "<assert>", "eval"),
                              frame.f_globals, frame.f_locals))
        except Exception:  # noqa: BLE001
            shown.append(text)
            continue
        if len(value) > 400:
            value = value[:400] + "…"
        shown.append(value)
        if not isinstance(part, ast.Constant):
            where.append(f"{text} = {value}")
    if isinstance(node.test, ast.Compare):
        ops = [_OPS.get(type(op), "?") for op in node.test.ops]
        head = shown[0] + "".join(f" {op} {v}" for op, v in zip(ops, shown[1:]))
    else:
        head = shown[0]
    return [f"AssertionError: assert {head}", *where]


_OPS = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=",
        ast.Is: "is", ast.IsNot: "is not", ast.In: "in", ast.NotIn: "not in"}
