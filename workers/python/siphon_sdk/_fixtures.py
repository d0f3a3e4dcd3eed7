"""Fixtures: collected from a module (``conftest.py``, the test file) or a ``Test*`` class, the
built-in ones (``tmp_path``, ``monkeypatch``; ``capsys`` comes from the runner), and one test's
resolution of them — each fixture once, fixtures using fixtures, ``yield`` and async fixtures
torn down after the test, in reverse order."""

import inspect

import pytest  # the subset in workers/python/testing/pytest.py
from pyodide.ffi import run_sync


def fixtures_of(namespace):
    """The fixtures defined in a module or a class, by name."""
    found = {}
    for value in vars(namespace).values():
        spec = getattr(value, "_siphon_fixture", None)
        if spec is not None:
            found[spec.name] = spec
    return found


def bound_to(instance):
    """The fixtures defined in ``instance``'s class, as methods of that instance."""
    return {name: pytest.FixtureDef(spec.fn.__get__(instance), spec.autouse, name)
            for name, spec in fixtures_of(type(instance)).items()}


def builtin_fixtures():
    """``tmp_path`` and ``monkeypatch``."""
    def tmp_path():
        import pathlib
        import tempfile
        return pathlib.Path(tempfile.mkdtemp(prefix="siphon_test_"))

    def monkeypatch():
        patch = pytest.MonkeyPatch()
        yield patch
        patch.undo()
    return {"tmp_path": pytest.FixtureDef(tmp_path, False, "tmp_path"),
            "monkeypatch": pytest.FixtureDef(monkeypatch, False, "monkeypatch")}




class Resolver:
    """One test's fixtures: resolved on demand, each once, torn down in reverse order."""

    def __init__(self, fixtures, params, extra):
        self._fixtures, self._params, self._extra = fixtures, params, extra
        self._values = {}
        self._teardown = []

    def resolve(self, name, chain=()):
        """The value of fixture (or parameter) ``name``."""
        if name in self._values:
            return self._values[name]
        if name in self._params:
            return self._params[name]
        if name in self._extra:
            return self._extra[name]
        spec = self._fixtures.get(name)
        if spec is None:
            raise LookupError(f"fixture {name!r} not found (available: "
                              f"{', '.join(sorted(self._fixtures)) or 'none'})")
        if name in chain:
            raise LookupError(f"fixture {name!r} depends on itself")
        args = {p: self.resolve(p, chain + (name,)) for p in inspect.signature(spec.fn).parameters}
        out = spec.fn(**args)
        if inspect.isgenerator(out):
            value = next(out)
            self._teardown.append(out)
        elif inspect.isasyncgen(out):
            value = run_sync(out.__anext__())
            self._teardown.append(out)
        else:
            value = run_sync(out) if inspect.isawaitable(out) else out
        self._values[name] = value
        return value

    def teardown(self):
        """Ends the ``yield`` fixtures, last first; returns the first error, or None."""
        error = None
        for gen in reversed(self._teardown):
            try:
                if inspect.isasyncgen(gen):
                    run_sync(gen.__anext__())
                else:
                    next(gen)
            except (StopIteration, StopAsyncIteration):
                pass
            except BaseException as exc:  # noqa: BLE001
                error = error or exc
        return error
