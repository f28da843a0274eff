"""The type stubs tools/python/make_stubs.py writes from the built package: they parse, name every
public function and class of the package (and of its public submodules, each in its own stub), type
select's method as Literal[every method] and every parameter of every method's schema as a
keyword-only argument (the same parameters help(libsubset.select) lists), and the **params of
evaluate, condense and al.query likewise from their schemas."""
import ast
import inspect
import os
import pkgutil
import pydoc
import subprocess
import sys

import pytest

import libsubset


@pytest.fixture(scope="module")
def stubs(source_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("stubs")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    script = os.path.join(source_dir, "tools", "python", "make_stubs.py")
    proc = subprocess.run([sys.executable, script, str(out / "__init__.pyi")], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return {name[:-4]: ast.parse((out / name).read_text(), filename=name) for name in os.listdir(out)
            if name.endswith(".pyi")}


def top_level(tree):
    return {node.name: node for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))}


def public_callables(module):
    names = getattr(module, "__all__", None)
    if names is None:
        names = [n for n in dir(module) if not n.startswith("_")]
    out = []
    for name in names:
        value = getattr(module, name, None)
        if (inspect.isroutine(value) or inspect.isclass(value)) and getattr(value, "__module__", "").startswith("libsubset"):
            out.append(name)
    return out


def keyword_annotations(function):
    args = function.args
    return {a.arg: ast.unparse(a.annotation) for a in args.args + args.kwonlyargs if a.annotation is not None}, \
        [a.arg for a in args.kwonlyargs]


def test_stub_names_every_public_function_and_class(stubs):
    init = top_level(stubs["__init__"])
    missing = [n for n in public_callables(libsubset) if n not in init]
    assert not missing, f"not in __init__.pyi: {missing}"
    for name in ("select", "Selection"):
        assert name in init
    imported = {a.asname or a.name for node in stubs["__init__"].body if isinstance(node, ast.ImportFrom)
                and node.level == 1 for a in node.names}
    for info in pkgutil.iter_modules(libsubset.__path__):
        if info.name.startswith("_"):
            continue
        assert info.name in imported, f"submodule {info.name} not imported in __init__.pyi"
        assert info.name in stubs, f"no {info.name}.pyi"
        module = __import__(f"libsubset.{info.name}", fromlist=["_"])
        names = top_level(stubs[info.name])
        missing = [n for n in public_callables(module) if n not in names]
        assert not missing, f"not in {info.name}.pyi: {missing}"


def test_select_method_is_a_literal_of_every_method(stubs):
    select = top_level(stubs["__init__"])["select"]
    annotations, _ = keyword_annotations(select)
    method = ast.parse(annotations["method"], mode="eval").body
    assert isinstance(method, ast.Subscript) and ast.unparse(method.value) == "Literal"
    names = [ast.literal_eval(e) for e in (method.slice.elts if isinstance(method.slice, ast.Tuple) else [method.slice])]
    assert names == [spec["name"] for spec in libsubset._native.select_methods()]


def test_every_select_parameter_is_in_help_and_in_the_stub(stubs):
    text = pydoc.render_doc(libsubset.select, renderer=pydoc.plaintext)
    annotations, keyword_only = keyword_annotations(top_level(stubs["__init__"])["select"])
    for spec in libsubset._native.select_methods():
        for p in spec["params"]:
            assert f"{p['name']}: " in text, f"{spec['name']}'s {p['name']} not in help(libsubset.select)"
            assert p["name"] in keyword_only, f"{spec['name']}'s {p['name']} not a keyword-only argument in the stub"
            kind = annotations[p["name"]]
            if p["type"] == "choice":
                assert "Literal[" in kind and all(repr(c) in kind for c in p["choices"]), (p["name"], kind)
            elif p["type"] in ("int", "bool"):
                assert p["type"] in kind, (p["name"], kind)
    assert "params" not in keyword_only, "the schema's parameters replace **params"
    # select's own arguments keep their place and defaults
    select = top_level(stubs["__init__"])["select"]
    assert [a.arg for a in select.args.args][:4] == ["X", "y", "method", "budget"]


@pytest.mark.parametrize("module, function, groups", [
    ("_nn", "evaluate", ("train", "evaluate")),
    ("_nn", "condense", ("condense",)),
    ("al", "query", ("al_query", "al_strategy", "al_proxy")),
])
def test_nn_calls_take_their_schemas_parameters(stubs, module, function, groups):
    stub = "al" if module == "al" else "__init__"
    defs = top_level(stubs[stub])
    if function not in defs:
        pytest.skip(f"libsubset does not export {function} yet")
    _, keyword_only = keyword_annotations(defs[function])
    schemas = libsubset._native.nn_schemas()
    for group in groups:
        for p in schemas[group]:
            assert p["name"] in keyword_only, (function, p["name"])


def test_the_built_stub_is_current(stubs):
    """The build's own __init__.pyi (next to the package) parses and names the same functions."""
    built = os.path.join(os.path.dirname(libsubset.__file__), "__init__.pyi")
    if not os.path.exists(built):
        pytest.skip("the build wrote no __init__.pyi (target subset_python_package)")
    with open(built) as f:
        tree = ast.parse(f.read())
    assert set(top_level(tree)) == set(top_level(stubs["__init__"]))
