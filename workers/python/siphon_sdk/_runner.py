"""The test runner behind ``siphon-deno test``: collects pytest-style tests (``test_*``
functions, ``Test*`` classes with ``test_*`` methods, fixtures from the file, its classes and a
``conftest.py`` beside it), keeps those selected (``file.py::name``, ``-k``), runs them in this
interpreter and reports each one (PASS, FAIL with file:line and the test's captured output,
SKIP, XFAIL, XPASS). Ends with ``N passed, M failed`` and the other counts."""

import asyncio
import importlib.util
import inspect
import io
import itertools
import json
import os
import sys

import pytest  # the subset in workers/python/testing/pytest.py
from pyodide.ffi import run_sync

from siphon._contract import host
from siphon_sdk import _fixtures, _mocks, _report, _select

def _write(text):
    host.harness.write(text)


def _load_module(path, name):
    folder = os.path.dirname(path)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


class _Test:
    def __init__(self, file, name, fn, owner, params):
        self.file, self.name, self.fn, self.owner, self.params = file, name, fn, owner, params

    def all_marks(self):
        return [*getattr(self.owner, "_siphon_marks", []), *getattr(self.fn, "_siphon_marks", [])]

    def marks(self, kind):
        return [m for m in self.all_marks() if m.name == kind]


class _Capture:
    """What a test printed (stdout and stderr), shown only when it fails; ``capsys`` reads it."""

    def __init__(self):
        self.out, self.err = io.StringIO(), io.StringIO()
        self._read = [0, 0]

    def __enter__(self):
        self._saved = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = self.out, self.err
        return self

    def __exit__(self, *exc):
        sys.stdout, sys.stderr = self._saved

    def readouterr(self):
        out, err = self.out.getvalue(), self.err.getvalue()
        result = (out[self._read[0]:], err[self._read[1]:])
        self._read = [len(out), len(err)]
        return pytest.CaptureResult(*result)

    def report(self):
        parts = []
        for name, buf in (("stdout", self.out), ("stderr", self.err)):
            text = buf.getvalue()
            if text:
                parts.append(f"captured {name}:\n" + _indent(text.rstrip("\n"), 2))
        return "\n".join(parts)


def _expand(file, name, fn, owner):
    cases = [({}, "")]
    for m in reversed(getattr(fn, "_siphon_marks", [])):
        if m.name != "parametrize":
            continue
        names = m.args[0]
        names = [n.strip() for n in names.split(",")] if isinstance(names, str) else list(names)
        values = list(m.args[1])
        ids = m.kwargs.get("ids")
        new = []
        for (given, label), (i, value) in itertools.product(cases, enumerate(values)):
            row = value if len(names) > 1 else (value,)
            tag = ids[i] if ids else "-".join(v if isinstance(v, str) and v else repr(v)
                                              for v in row)
            new.append(({**given, **dict(zip(names, row))}, f"{label}-{tag}" if label else tag))
        cases = new
    return [_Test(file, f"{name}[{label}]" if label else name, fn, owner, params)
            for params, label in cases]


def _line_of(value, module):
    """Where ``value`` starts in the test file, to keep tests in file order (0 for what was
    imported: only this file's functions and classes are collected)."""
    code = getattr(value, "__code__", None)
    if code is not None:
        return code.co_firstlineno
    if inspect.isclass(value) and value.__module__ == module.__name__:
        try:
            return inspect.getsourcelines(value)[1]
        except (OSError, TypeError):
            return 0
    return 0


def _collect(file, module):
    tests = []
    items = sorted(vars(module).items(), key=lambda kv: _line_of(kv[1], module))
    for name, value in items:
        if name.startswith("test") and inspect.isfunction(value) and \
                getattr(value, "__module__", None) == module.__name__:
            tests += _expand(file, name, value, None)
        elif name.startswith("Test") and inspect.isclass(value) and \
                value.__module__ == module.__name__:
            for attr, fn in vars(value).items():
                if attr.startswith("test") and inspect.isfunction(fn):
                    tests += _expand(file, f"{name}::{attr}", fn, value)
    return tests


def _call(fn, *args, **kwargs):
    out = fn(*args, **kwargs)
    if inspect.isawaitable(out):
        out = run_sync(out)
    return out


def _xfail_of(test):
    """The test's active ``xfail`` mark (its condition holds), or None."""
    for m in test.marks("xfail"):
        condition = m.kwargs.get("condition", m.args[0] if m.args else True)
        if condition:
            return m
    return None


def _run_one(test, fixtures, capture):
    """Runs a test; returns (outcome, text) with outcome pass, fail, skip, xfail or xpass."""
    unknown = [m.name for m in test.all_marks() if m.name not in pytest.KNOWN_MARKS]
    if unknown:
        return ("fail", f"unknown mark @pytest.mark.{unknown[0]}: siphon-deno test knows "
                        f"{', '.join(pytest.KNOWN_MARKS)}; remove it or use one of those")
    for m in test.marks("skip"):
        return ("skip", m.kwargs.get("reason") or (m.args[0] if m.args else ""))
    for m in test.marks("skipif"):
        if m.args and m.args[0]:
            return ("skip", m.kwargs.get("reason", ""))
    xfail = _xfail_of(test)
    reason = xfail.kwargs.get("reason", "") if xfail else ""
    if xfail and not xfail.kwargs.get("run", True):
        return ("xfail", f"{reason} (not run)" if reason else "not run")
    failure = _run_body(test, fixtures, capture)
    if xfail is None:
        return failure[:2] if failure else ("pass", "")
    if failure is None:
        return ("fail" if xfail.kwargs.get("strict") else "xpass",
                f"[XPASS(strict)] {reason}".rstrip() if xfail.kwargs.get("strict") else reason)
    raises = xfail.kwargs.get("raises")
    if failure[0] == "fail" and raises is not None and not isinstance(failure[2], raises):
        return failure[:2]
    return ("xfail", reason) if failure[0] == "fail" else failure[:2]


def _run_body(test, fixtures, capture):
    """Fixtures, the test, teardown: None when it passed, else (outcome, text, exception)."""
    instance = test.owner() if test.owner else None
    if instance is not None:  # fixtures defined in the class, bound to this test's instance
        fixtures = {**fixtures, **_fixtures.bound_to(instance)}
    resolver = _fixtures.Resolver(fixtures, test.params, {"capsys": capture})
    failure = None
    try:
        for name, spec in fixtures.items():
            if spec.autouse:
                resolver.resolve(name)
        for m in test.marks("usefixtures"):
            for name in m.args:
                resolver.resolve(name)
        fn = test.fn.__get__(instance) if instance is not None else test.fn
        _call(fn, **{p: resolver.resolve(p) for p in inspect.signature(fn).parameters})
    except pytest.Skipped as exc:
        failure = ("skip", str(exc), exc)
    except pytest.XFailed as exc:
        failure = ("xfail", str(exc), exc)
    except BaseException as exc:  # noqa: BLE001 - every failure is reported
        if isinstance(exc, KeyboardInterrupt):
            raise
        failure = ("fail", _report.describe(exc), exc)
    error = resolver.teardown()
    if error is not None and failure is None:
        failure = ("fail", "error in fixture teardown:\n" + _report.describe(error), error)
    return failure


_LABELS = {"pass": "PASS", "fail": "FAIL", "skip": "SKIP", "xfail": "XFAIL", "xpass": "XPASS"}


async def run(files_json, cwd, options_json="{}"):
    """Run the selected tests of the given files; returns the counts as JSON."""
    _report.set_cwd(cwd)
    if os.path.isdir(cwd):
        os.chdir(cwd)  # as a plain CPython run from there: relative paths start at it
    options = json.loads(options_json)
    selection = _select.Selection(options.get("only"), options.get("keyword"))
    asyncio.run = lambda coro, **_: run_sync(coro)  # tests written for CPython call this
    counts = {"pass": 0, "fail": 0, "skip": 0, "xfail": 0, "xpass": 0, "deselected": 0}
    for index, path in enumerate(json.loads(files_json)):
        folder = os.path.dirname(path)
        fixtures = _fixtures.builtin_fixtures()
        try:
            conftest = os.path.join(folder, "conftest.py")
            if os.path.exists(conftest):
                fixtures.update(_fixtures.fixtures_of(_load_module(conftest, f"conftest_{index}")))
            module = _load_module(path, f"siphon_test_{index}_" +
                                  os.path.basename(path)[:-3])
        except BaseException as exc:  # noqa: BLE001
            counts["fail"] += 1
            _write(f"FAIL {_report.rel(path)} (cannot import)\n{_indent(_report.describe(exc))}\n")
            continue
        fixtures.update(_fixtures.fixtures_of(module))
        tests = _collect(path, module)
        for name in selection.missing(path, tests):
            counts["fail"] += 1
            _write(f"FAIL {_report.rel(path)}::{name} (no such test; the file has "
                   f"{', '.join(t.name for t in tests) or 'none'})\n")
        for test in tests:
            if not selection.keeps(path, test):
                counts["deselected"] += 1
                continue
            logged = len(_mocks.LOG.messages)
            with _Capture() as capture:
                outcome, text = _run_one(test, fixtures, capture)
            counts[outcome] += 1
            label = f"{_report.rel(path)}::{test.name}"
            if outcome != "fail":
                _write(f"{_LABELS[outcome]} {label}{': ' + text if text else ''}\n")
                continue
            _write(f"FAIL {label}\n{_indent(text)}\n")
            captured = capture.report()
            if captured:
                _write(_indent(captured) + "\n")
            logs = _mocks.LOG.messages[logged:]
            if logs:
                _write("  log:\n" + "".join(
                    _indent(f"{level.upper()} {line}", 4) + "\n" for level, line in logs))
    return json.dumps(counts)


def _indent(text, n=2):
    return "\n".join(" " * n + line for line in text.splitlines())
