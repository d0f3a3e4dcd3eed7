"""The Python a generation runs, as it was when its config was loaded: the script and the
``.py`` files beside it, handed over as text (src/config/files.ts). Every worker of a
generation — a replacement started after the files changed or went away included — imports
these texts, so a half-written save or a deleted file cannot reach a worker of the generation
that serves. Modules in sub-folders, and files the server did not read, come from disk."""

import importlib.abc
import importlib.util
import os
import sys


class _Loader(importlib.abc.SourceLoader):
    """Source from the text handed over; the path stays the file's, for tracebacks."""

    def __init__(self, path, text):
        self._path, self._text = path, text

    def get_filename(self, fullname):
        return self._path

    def get_data(self, path):
        if path == self._path:
            return self._text.encode("utf-8")
        with open(path, "rb") as file:
            return file.read()


class _Finder(importlib.abc.MetaPathFinder):
    """Top-level modules of the script's folder, from the texts of the serving generation."""

    def __init__(self):
        self.files = {}  # module name -> (path, text)

    def find_spec(self, fullname, path=None, target=None):
        hit = self.files.get(fullname) if path is None else None
        if hit is None:
            return None
        return importlib.util.spec_from_file_location(fullname, hit[0],
                                                      loader=_Loader(*hit))


_finder = _Finder()


def use(folder, code):
    """Serve the ``.py`` files of ``folder`` in ``code`` (``{path: text}``) to imports."""
    _finder.files = {
        os.path.basename(path)[:-3]: (path, text) for path, text in code.items()
        if path.endswith(".py") and os.path.dirname(path) == folder
    }
    if _finder not in sys.meta_path:
        sys.meta_path.insert(0, _finder)


def loader(path, code):
    """A loader of ``path`` from ``code``, or None to read it from disk."""
    text = code.get(path)
    return None if text is None else _Loader(path, text)
