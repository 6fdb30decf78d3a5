"""Imports go one way: no circle between jaxdl's modules, no import against the layering that jaxdl/__init__.py's
docstring declares, and no private module or name imported from another package (in jaxdl/, benchmarks/ and
examples/). Every import statement counts, those inside functions too, and importlib.import_module("jaxdl...")."""
import ast
import re
from pathlib import Path

import jaxdl

ROOT = Path(jaxdl.__file__).parent
REPO = ROOT.parent


def declared_layers(doc: str) -> list[list[str]]:
    """The floors of the docstring's table ("    0  _typing _precision checks" ...), ground floor first."""
    rows = re.findall(r"^ {4}(\d+) {2}(\S.*)$", doc, flags=re.M)
    assert rows, "jaxdl/__init__.py's docstring declares no layers (lines '    0  unit unit ...')"
    assert [int(n) for n, _ in rows] == list(range(len(rows))), f"floors must be numbered 0, 1, ...: {rows}"
    return [names.split() for _, names in rows]


def module_name(path: Path, base: Path = REPO) -> str:
    parts = list(path.relative_to(base).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def unit(module: str) -> str | None:
    """The layered unit of a jaxdl module: its top-level package or module under jaxdl (None for jaxdl itself)."""
    parts = module.split(".")
    return parts[1] if parts[0] == "jaxdl" and len(parts) > 1 else None


def imports(path: Path, modules: set[str]):
    """(line, imported module, imported names) for every jaxdl import in ``path``; ``from a import b`` imports
    the module a.b when that is a module of jaxdl, else names of a."""
    here = module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, ()
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(up + ([node.module] if node.module else []))
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                yield (node.lineno, sub, ()) if sub in modules else (node.lineno, base, (alias.name,))
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "import_module"
              and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            yield node.lineno, node.args[0].value, ()


def import_graph():
    """{module: [(file, line, imported module, names)]} over jaxdl/, and the set of jaxdl's modules."""
    files = sorted(ROOT.rglob("*.py"))
    modules = {module_name(f) for f in files}
    graph = {}
    for f in files:
        graph[module_name(f)] = [(f.relative_to(REPO).as_posix(), line, target, names)
                                 for line, target, names in imports(f, modules)
                                 if target == "jaxdl" or target.startswith("jaxdl.")]
    return graph, modules


def circles(graph) -> list[list[str]]:
    """The import circles: strongly connected groups of modules (Tarjan), each as one path around it."""
    index, low, stack, on, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for *_, w, _ in graph.get(v, ()):
            if w not in graph:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1 or any(t == v for *_, t, _ in graph.get(v, ())):
                found.append(path_around(graph, set(group), v))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def path_around(graph, group, start):
    """A shortest import path start -> ... -> start inside ``group`` (breadth first)."""
    paths, seen = [[start]], set()
    while paths:
        path = paths.pop(0)
        for *_, w, _ in graph[path[-1]]:
            if w == start:
                return path + [start]
            if w in group and w not in seen:
                seen.add(w)
                paths.append(path + [w])
    return [start]


def layering_problems(graph, layers) -> list[str]:
    """Every import of a higher floor, or of another unit on the importer's own floor, and every unit not declared."""
    floor = {name: i for i, names in enumerate(layers) for name in names}
    problems = []
    for module, edges in sorted(graph.items()):
        src = unit(module)
        if src is None:
            continue
        if src not in floor:
            problems.append(f"{module}: unit {src!r} is on no floor of jaxdl/__init__.py's layering")
            continue
        for file, line, target, _ in edges:
            dst = unit(target)
            if dst is None or dst == src:
                continue
            if dst not in floor:
                problems.append(f"{file}:{line}: imports {target}, whose unit {dst!r} is on no floor")
            elif floor[dst] > floor[src]:
                problems.append(f"{file}:{line}: {src} (floor {floor[src]}) imports {target} of {dst} (floor "
                                f"{floor[dst]}): a lower layer imports a higher one")
            elif floor[dst] == floor[src]:
                problems.append(f"{file}:{line}: {src} and {dst} share floor {floor[src]} but {src} imports {target}")
    return problems


def private_owner(target: str, names=()) -> str | None:
    """The package that owns the private part of ``target`` (or of one of ``names``), None when all is public."""
    parts = target.split(".")
    for i, part in enumerate(parts):
        if part.startswith("_") and not part.startswith("__"):
            return ".".join(parts[:i])
    if any(n.startswith("_") and not n.startswith("__") for n in names):
        return target
    return None


def private_problems(edges_by_module) -> list[str]:
    """Imports of a private module or name from outside the package that owns it."""
    problems = []
    for module, edges in sorted(edges_by_module.items()):
        for file, line, target, names in edges:
            owner = private_owner(target, names)
            if owner is not None and not (module == owner or module.startswith(owner + ".")):
                private_name = not target.split(".")[-1].startswith("_") and owner == target
                what = f"{target} import {', '.join(names)}" if private_name else target
                problems.append(f"{file}:{line}: {module} imports {what}, private to {owner}")
    return list(dict.fromkeys(problems))


def test_the_layering_is_declared_once_and_covers_every_unit():
    layers = declared_layers(jaxdl.__doc__)
    names = [n for floor in layers for n in floor]
    assert len(names) == len(set(names)), f"a unit on two floors: {names}"
    graph, _ = import_graph()
    units = {unit(m) for m in graph} - {None}
    assert units <= set(names), f"units on no floor: {sorted(units - set(names))}"


def test_no_import_circle():
    graph, _ = import_graph()
    found = circles(graph)
    assert not found, "import circles:\n  " + "\n  ".join(" -> ".join(c) for c in found)


def test_imports_follow_the_layering():
    graph, _ = import_graph()
    problems = layering_problems(graph, declared_layers(jaxdl.__doc__))
    assert not problems, "\n".join(problems)


def test_no_private_name_crosses_a_package():
    graph, modules = import_graph()
    for folder in ("benchmarks", "examples"):
        for f in sorted((REPO / folder).glob("**/*.py")):
            graph[module_name(f)] = [(f.relative_to(REPO).as_posix(), line, target, names)
                                     for line, target, names in imports(f, modules) if target.startswith("jaxdl.")]
    problems = private_problems(graph)
    assert not problems, "\n".join(problems)


# --- the checks can fail: a fake import graph ------------------------------------------------------------------
FAKE_LAYERS = [["checks"], ["functional"], ["nn", "optim"], ["cli"]]


def fake(edges):
    graph = {}
    for src, dst in edges:
        graph.setdefault(src, []).append((src.replace(".", "/") + ".py", 1, dst, ()))
    return graph


def test_a_circle_is_found():
    graph = fake([("jaxdl.nn", "jaxdl.nn._a"), ("jaxdl.nn._a", "jaxdl.nn._b"), ("jaxdl.nn._b", "jaxdl.nn._a"),
                  ("jaxdl.nn._b", "jaxdl.functional")])
    assert circles(graph) == [["jaxdl.nn._a", "jaxdl.nn._b", "jaxdl.nn._a"]]
    assert circles(fake([("jaxdl.nn._a", "jaxdl.nn._a")])) == [["jaxdl.nn._a", "jaxdl.nn._a"]]
    assert circles(fake([("jaxdl.nn._a", "jaxdl.nn._b"), ("jaxdl.nn._b", "jaxdl.functional")])) == []


def test_an_upward_import_is_named_with_its_file_and_both_layers():
    graph = fake([("jaxdl.functional._x", "jaxdl.nn"), ("jaxdl.nn._y", "jaxdl.functional"),
                  ("jaxdl.nn._z", "jaxdl.optim._w"), ("jaxdl.cli", "jaxdl.nowhere")])
    problems = layering_problems(graph, FAKE_LAYERS)
    assert problems == [
        "jaxdl/cli.py:1: imports jaxdl.nowhere, whose unit 'nowhere' is on no floor",
        "jaxdl/functional/_x.py:1: functional (floor 1) imports jaxdl.nn of nn (floor 2): a lower layer imports a "
        "higher one",
        "jaxdl/nn/_z.py:1: nn and optim share floor 2 but nn imports jaxdl.optim._w",
    ], problems


def test_a_private_import_across_packages_is_named():
    graph = {"jaxdl.nn._summary": [("jaxdl/nn/_summary.py", 10, "jaxdl.interop", ("_template",)),
                                   ("jaxdl/nn/_summary.py", 11, "jaxdl.nn._container", ())],
             "jaxdl.nn._conv": [("jaxdl/nn/_conv.py", 11, "jaxdl.functional._conv", ())],
             "jaxdl.amp": [("jaxdl/amp.py", 41, "jaxdl._precision", ())]}
    assert private_problems(graph) == [
        "jaxdl/nn/_conv.py:11: jaxdl.nn._conv imports jaxdl.functional._conv, private to jaxdl.functional",
        "jaxdl/nn/_summary.py:10: jaxdl.nn._summary imports jaxdl.interop import _template, private to jaxdl.interop",
    ]


def test_the_docstring_table_is_parsed():
    assert declared_layers("x\n\n    0  a b\n    1  c\n\ny") == [["a", "b"], ["c"]]
