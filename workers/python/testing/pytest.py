"""The part of pytest that ``siphon-deno test`` supports, for test files that ``import pytest``
(pytest itself cannot be installed into the runtime: no package index is reachable from it).

Supported: ``raises`` (with ``match=``), ``fixture`` (function scope; ``yield`` teardown;
``autouse``; ``name=``; fixtures may use fixtures), ``mark.parametrize``, ``mark.skip``,
``mark.skipif``, ``mark.xfail`` (``condition``, ``reason``, ``raises``, ``run``, ``strict``),
``mark.usefixtures``, ``mark.asyncio`` (async tests run anyway), ``skip()``, ``fail()``,
``xfail()``, ``approx``, and the built-in fixtures ``tmp_path``, ``monkeypatch`` and
``capsys``. Any other attribute raises an AttributeError naming this module; any other mark
fails the test it is on.
"""

import collections
import inspect
import math
import re


class Skipped(Exception):
    """Raised by :func:`skip`."""


class Failed(AssertionError):
    """Raised by :func:`fail`."""


def skip(reason=""):
    raise Skipped(reason)


def fail(reason="", pytrace=True):
    raise Failed(reason)


#: What ``capsys.readouterr()`` returns.
CaptureResult = collections.namedtuple("CaptureResult", "out err")


class XFailed(Exception):
    """Raised by :func:`xfail`: the test is expected to fail here."""


def xfail(reason=""):
    raise XFailed(reason)


class _RaisesContext:
    def __init__(self, expected, match):
        self.expected = expected
        self.match_expr = match
        self.value = None
        self.type = None

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            raise Failed(f"DID NOT RAISE {self.expected}")
        if not issubclass(exc_type, self.expected):
            return False
        self.value, self.type = exc, exc_type
        if self.match_expr is not None and not re.search(self.match_expr, str(exc)):
            raise Failed(f"Regex pattern {self.match_expr!r} does not match {str(exc)!r}")
        return True

    def match(self, pattern):
        assert re.search(pattern, str(self.value)), f"{pattern!r} not found in {self.value!r}"
        return True


def raises(expected, *args, match=None, **kwargs):
    """``with pytest.raises(ValueError, match="bad"):`` — or call form ``raises(E, fn, *a)``."""
    ctx = _RaisesContext(expected, match)
    if args:
        with ctx:
            args[0](*args[1:], **kwargs)
        return ctx
    return ctx


class FixtureDef:
    def __init__(self, fn, autouse, name):
        self.fn, self.autouse, self.name = fn, autouse, name or fn.__name__


def fixture(fn=None, *, scope="function", autouse=False, name=None, params=None):
    """Declare a fixture (function scope; the ``scope`` argument is accepted and ignored)."""
    if params is not None:
        raise NotImplementedError("siphon-deno test: fixture(params=...) is not supported; "
                                  "use @pytest.mark.parametrize on the test")

    def wrap(f):
        f._siphon_fixture = FixtureDef(f, autouse, name)
        return f
    return wrap(fn) if fn is not None else wrap


class _Mark:
    def __init__(self, name, args, kwargs):
        self.name, self.args, self.kwargs = name, args, kwargs

    def __call__(self, target):
        # On a function or a class (its tests inherit it); a fresh list, never a parent's.
        target._siphon_marks = [*vars(target).get("_siphon_marks", []), self]
        return target


#: Marks the runner understands; any other mark fails the test it is on, naming it.
KNOWN_MARKS = ("parametrize", "skip", "skipif", "xfail", "usefixtures", "asyncio")


class _MarkFactory:
    def __getattr__(self, name):
        def make(*args, **kwargs):
            # Bare ``@pytest.mark.xfail`` (no parentheses) hands over the function itself.
            if len(args) == 1 and not kwargs and (inspect.isfunction(args[0])
                                                  or inspect.isclass(args[0])):
                return _Mark(name, (), {})(args[0])
            return _Mark(name, args, kwargs)
        return make


mark = _MarkFactory()


class approx:
    """Numbers (or lists of numbers) equal within ``rel`` (default 1e-6) or ``abs``."""

    def __init__(self, expected, rel=None, abs=None):
        self.expected, self.rel, self.abs = expected, rel, abs

    def _close(self, a, b):
        tol = max(self.rel if self.rel is not None else 1e-6 * math.fabs(b) if b else 0,
                  self.abs if self.abs is not None else 1e-12)
        if self.rel is not None:
            tol = max(tol, self.rel * math.fabs(b))
        return math.fabs(a - b) <= tol

    def __eq__(self, other):
        if isinstance(self.expected, (list, tuple)):
            return len(other) == len(self.expected) and all(
                self._close(a, b) for a, b in zip(other, self.expected))
        return self._close(other, self.expected)

    def __repr__(self):
        return f"approx({self.expected!r})"


class MonkeyPatch:
    """``setattr``/``delattr``/``setitem``/``delitem``/``setenv``/``delenv``, undone after the
    test."""

    def __init__(self):
        self._undo = []

    def setattr(self, target, name, value, raising=True):
        old = getattr(target, name, _MISSING)
        if old is _MISSING and raising:
            raise AttributeError(f"{target!r} has no attribute {name!r}")
        self._undo.append(lambda: setattr(target, name, old) if old is not _MISSING
                          else delattr(target, name))
        setattr(target, name, value)

    def delattr(self, target, name, raising=True):
        if not hasattr(target, name):
            if raising:
                raise AttributeError(name)
            return
        old = getattr(target, name)
        self._undo.append(lambda: setattr(target, name, old))
        delattr(target, name)

    def setitem(self, mapping, key, value):
        old = mapping.get(key, _MISSING)
        self._undo.append(lambda: mapping.__setitem__(key, old) if old is not _MISSING
                          else mapping.pop(key, None))
        mapping[key] = value

    def delitem(self, mapping, key, raising=True):
        if key not in mapping:
            if raising:
                raise KeyError(key)
            return
        old = mapping[key]
        self._undo.append(lambda: mapping.__setitem__(key, old))
        del mapping[key]

    def setenv(self, name, value):
        import os
        self.setitem(os.environ, name, str(value))

    def delenv(self, name, raising=True):
        import os
        self.delitem(os.environ, name, raising)

    def undo(self):
        while self._undo:
            self._undo.pop()()


_MISSING = object()


def __getattr__(name):
    raise AttributeError(f"pytest.{name} is not supported by siphon-deno test "
                         "(see the list in this module's docstring)")
