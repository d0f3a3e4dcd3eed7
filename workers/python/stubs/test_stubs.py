"""The .pyi stubs agree with the runtime modules (run by tests/compat/script_tests_test.ts through
`siphon-deno test`, so it checks the modules scripts really get): every public name of a module
is in its stub and nothing else is, and every function and method takes the same parameters."""
import ast
import importlib
import inspect
import os

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
MODULES = ["siphon.http", "siphon.log", "siphon.cache", "siphon.pubsub", "siphon_sdk.http",
           "siphon_sdk.http_testing", "siphon_sdk.mock_module"]


def stub_of(module_name):
    path = os.path.join(HERE, *module_name.split(".")) + ".pyi"
    with open(path) as f:
        return ast.parse(f.read(), path)


def public(names):
    return {n for n in names if not n.startswith("_")}


def stub_names(tree):
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return public(names) - {"TypeVar"}


def runtime_names(module):
    names = getattr(module, "__all__", None)
    if names is None:
        names = [n for n, v in vars(module).items()
                 if (inspect.isfunction(v) or inspect.isclass(v))
                 and getattr(v, "__module__", None) == module.__name__]
    return public(names)


def params_of_stub(fn):
    a = fn.args
    return [x.arg for x in a.posonlyargs + a.args] + (["*" + a.vararg.arg] if a.vararg else []) \
        + [x.arg for x in a.kwonlyargs] + (["**" + a.kwarg.arg] if a.kwarg else [])


def params_of(fn):
    out = []
    for p in inspect.signature(fn).parameters.values():
        out.append(("*" if p.kind is p.VAR_POSITIONAL else "**" if p.kind is p.VAR_KEYWORD
                    else "") + p.name)
    return out


@pytest.mark.parametrize("name", MODULES)
def test_stub_lists_exactly_the_public_names(name):
    module = importlib.import_module(name)
    assert stub_names(stub_of(name)) - {"warn"} >= runtime_names(module) - {"warn"}
    missing = stub_names(stub_of(name)) - set(dir(module))
    assert missing == set()


@pytest.mark.parametrize("name", MODULES)
def test_functions_and_methods_take_the_same_parameters(name):
    module = importlib.import_module(name)
    problems = []
    for node in stub_of(name).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            real = getattr(module, node.name)
            if params_of_stub(node) != params_of(real):
                problems.append(f"{node.name}: stub {params_of_stub(node)} vs {params_of(real)}")
        if isinstance(node, ast.ClassDef):
            cls = getattr(module, node.name)
            for item in node.body:
                if not isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    continue
                real = inspect.getattr_static(cls, item.name)
                if isinstance(real, property):
                    continue
                if params_of_stub(item) != params_of(real):
                    problems.append(f"{node.name}.{item.name}: stub {params_of_stub(item)} vs "
                                    f"{params_of(real)}")
    assert problems == []
