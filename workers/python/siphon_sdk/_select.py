"""Which tests run: ``file.py::name`` picks tests by name, ``-k`` by an expression over their
names."""

import os
import re


class Selection:
    """``file.py::name`` picks tests by name (a class picks its methods, a name without
    ``[params]`` every case); ``-k`` keeps tests whose names match the expression: words matched
    case-insensitively as substrings of ``file::Class::test[params]``, joined with ``and``,
    ``or``, ``not`` and parentheses."""

    def __init__(self, only, keyword):
        self.only = only or {}
        self.keyword = keyword
        self._expr = keyword_expression(keyword) if keyword else None

    @staticmethod
    def named(test, name):
        return test.name == name or test.name.startswith((name + "[", name + "::"))

    def missing(self, path, tests):
        """Names asked for in ``file.py::name`` that no test of the file has."""
        return [n for n in self.only.get(path, []) if not any(self.named(t, n) for t in tests)]

    def keeps(self, path, test):
        names = self.only.get(path)
        if names and not any(self.named(test, n) for n in names):
            return False
        if self._expr is None:
            return True
        label = f"{os.path.basename(path)[:-3]}::{test.name}".lower()
        return eval(self._expr, {"__builtins__": {}}, {"_m": lambda w: w.lower() in label})


def keyword_expression(text):
    """``-k`` as a Python expression over ``_m(word)``; ValueError when it cannot be read."""
    out = []
    for token in re.findall(r"\(|\)|[^\s()]+", text):
        if token in ("and", "or", "not", "(", ")"):
            out.append(token)
        elif re.fullmatch(r"[\w\-\[\].:/]+", token):
            out.append(f"_m({token!r})")
        else:
            raise ValueError(f"cannot read -k {text!r}: unexpected {token!r}")
    expr = " ".join(out)
    try:
        compile(expr, "<-k>", "eval")
    except SyntaxError:
        raise ValueError(f"cannot read -k {text!r}: use words joined by and, or, not, "
                         "and parentheses") from None
    return expr
