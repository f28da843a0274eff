"""Docstrings from the library's parameter declarations, so help() lists what the CLI's --help does.

A function that takes its parameters as **params also gets the attributes the stub generator
(tools/python/make_stubs.py) reads: __libsubset_params__ (the parameters it accepts, as the schemas
declare them: name, type, choices, ...) and __libsubset_literals__ ({argument: [allowed values]}).
"""
from . import _native


def parameter_lines(params, indent="    "):
    lines = []
    for p in params:
        default = p["default_text"]
        lines.append(f"{indent}{p['name']}: {p['label']} = {default}")
        lines.append(f"{indent}    {p['doc']}")
    return lines


def select_methods_text():
    lines = ["", "Methods and their parameters (keyword arguments):", ""]
    for spec in _native.select_methods():
        needs = [word for word, key in (("features", "needs_features"), ("labels", "needs_labels")) if spec[key]]
        lines.append(f"  {spec['name']}: {spec['summary']}" + (f" (needs {' and '.join(needs)})" if needs else ""))
        lines.extend(parameter_lines(spec["params"]))
    return "\n".join(lines)


def merged_params(groups):
    """The parameters of several schemas, each name once (the first declaration, with the types of
    every declaration under "types" and the methods of all of them)."""
    merged = {}
    for params in groups:
        for p in params:
            if p["name"] not in merged:
                merged[p["name"]] = dict(p, types=[p["type"]], choices=list(p.get("choices") or []),
                                         methods=list(p.get("methods") or []))
                continue
            m = merged[p["name"]]
            if p["type"] not in m["types"]:
                m["types"].append(p["type"])
            m["choices"] += [c for c in p.get("choices") or [] if c not in m["choices"]]
            m["methods"] += [w for w in p.get("methods") or [] if w not in m["methods"]]
    return list(merged.values())


def document_params(function, sections, literals=None):
    """Appends each (title, params) section's parameter list to function's docstring and records the
    parameters (and the literal choices of named arguments) for the stubs."""
    lines = []
    for title, params in sections:
        lines += ["", f"{title}:", ""] + parameter_lines(params, indent="  ")
    function.__doc__ = (function.__doc__ or "") + "\n".join(lines)
    function.__libsubset_params__ = merged_params([params for _, params in sections])
    if literals:
        function.__libsubset_literals__ = dict(literals)
    return function


def nn_schemas():
    """The schemas of evaluate (train, evaluate), condense and al.query (al_query, al_strategy,
    al_proxy), as select_methods gives select's."""
    return _native.nn_schemas()


def document(namespace):
    select = namespace["select"]
    select.__doc__ = (select.__doc__ or "") + select_methods_text()
    methods = _native.select_methods()
    select.__libsubset_params__ = merged_params([spec["params"] for spec in methods])
    select.__libsubset_literals__ = {"method": [spec["name"] for spec in methods]}
