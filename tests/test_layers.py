"""The import graph of bm, function-level imports included: no circle anywhere, and every package or top-level module
imports only those of a lower layer (LAYERS, written down in docs/architecture.md)."""

import ast
from pathlib import Path

import bm

ROOT = Path(bm.__file__).parent
# a base module may import only these (prefix match); everything else is a higher layer
BASE = {
    "bm.errors": (),
    "bm.arrays": ("bm.errors",),
    "bm.threads": (),
    "bm.jsonfiles": ("bm.errors",),
    "bm.configs": ("bm.errors", "bm.jsonfiles"),
    "bm.runs": ("bm.runs", "bm.errors", "bm.jsonfiles", "bm"),
    "bm.theory": ("bm.theory", "bm.errors", "bm.arrays", "bm.threads"),
}


def import_graph() -> dict[str, set[str]]:
    """Module -> the bm modules it imports anywhere in its body (a `from bm.x import y` names bm.x.y if that is a
    module, else bm.x)."""
    files = {
        ".".join(p.relative_to(ROOT.parent).with_suffix("").parts).removesuffix(".__init__"): p
        for p in ROOT.rglob("*.py")
    }

    def module(name: str) -> str:
        while name not in files and "." in name:
            name = name.rsplit(".", 1)[0]
        return name

    graph = {}
    for name, path in files.items():
        deps = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                deps |= {module(a.name) for a in node.names if a.name.split(".")[0] == "bm"}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "bm":
                deps |= {module(f"{node.module}.{a.name}") for a in node.names}
        graph[name] = deps - {name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, found = {}, {}, [], set(), []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_cycle_finder_finds_a_circle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_bm_has_no_import_circle():
    graph = import_graph()
    assert "bm.deep.train" in graph and "bm.runs" in graph["bm.deep.train"]  # the graph is read, not empty
    assert cycles(graph) == []


# bm's packages and top-level modules, lowest first; a unit imports only units of a strictly lower layer
LAYERS = [
    ("bm", "bm.errors"),
    ("bm.jsonfiles", "bm.arrays", "bm.threads", "bm.registry", "bm.stats", "bm.plugins", "bm.labels"),
    ("bm.configs", "bm.runs", "bm.memory"),
    ("bm.options", "bm.jobs", "bm.tensorboard"),
    ("bm.launch",),
    ("bm.theory",),
    ("bm.probe",),
    ("bm.toy", "bm.deep"),
    ("bm.analyses",),
    ("bm.figures",),
    ("bm.results", "bm.findings"),
    ("bm.reproduce",),
    ("bm.commands",),
    ("bm.cli",),
    ("bm.__main__",),
]


def unit(module: str) -> str:
    """The package or top-level module that `module` belongs to (bm.deep.train -> bm.deep; bm -> bm)."""
    return ".".join(module.split(".")[:2])


def against_the_order(graph: dict[str, set[str]]) -> list[tuple[str, str]]:
    """(module, imported module) for every import of a unit of the same or a higher layer than the importer's."""
    rank = {u: k for k, layer in enumerate(LAYERS) for u in layer}
    return sorted(
        (m, d) for m, deps in graph.items() for d in deps if unit(d) != unit(m) and rank[unit(d)] >= rank[unit(m)]
    )


def test_every_unit_has_a_layer_and_the_order_check_sees_an_upward_import():
    graph = import_graph()
    assert {unit(m) for m in graph} == {u for layer in LAYERS for u in layer}
    assert against_the_order({"bm.deep.train": {"bm.figures.probe"}}) == [("bm.deep.train", "bm.figures.probe")]
    assert against_the_order({"bm.deep.train": {"bm.toy.grid"}}) == [("bm.deep.train", "bm.toy.grid")]  # siblings
    assert against_the_order({"bm.figures.probe": {"bm.deep.train", "bm.figures"}}) == []


def test_packages_import_only_lower_layers():
    assert against_the_order(import_graph()) == []


def test_the_base_layers_import_nothing_above_them():
    graph = import_graph()
    upward = {
        m: sorted(d for d in deps if not any(d == a or (a != "bm" and d.startswith(a + ".")) for a in allowed))
        for base, allowed in BASE.items()
        for m, deps in graph.items()
        if m == base or m.startswith(base + ".")
    }
    assert {m: d for m, d in upward.items() if d} == {}


def test_the_cli_and_its_help_load_neither_torch_nor_submitit():
    """`bm --help` and every command's help answer without torch (the configs, scales and job specs are torch-free)."""
    import subprocess
    import sys

    code = (
        "import contextlib, io, sys\n"
        "from bm.cli import app, main\n"
        "import typer\n"
        "commands = [[c.name] for c in typer.main.get_command(app).commands.values()]\n"
        "for argv in [[], *commands, ['capacity', 'deep'], ['capacity', 'toy']]:\n"
        "    with contextlib.redirect_stdout(io.StringIO()):\n"
        "        try:\n"
        "            main([*argv, '--help'])\n"
        "        except SystemExit as e:\n"
        "            assert e.code == 0, argv\n"
        "print(len(commands), 'torch' in sys.modules, 'submitit' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    count, torch_loaded, submitit_loaded = out.stdout.split()
    assert int(count) >= 10 and (torch_loaded, submitit_loaded) == ("False", "False")


def test_every_protocol_the_config_accepts_resolves_to_its_implementation():
    """One registration per protocol, online or fixed-set: its "module:attribute" names load, and a fixed set's
    memory bank too."""
    import inspect

    from bm.deep.config import DeepTrainConfig
    from bm.deep.protocols import PROTOCOLS

    assert {"none", "ssl", "ssl+mixup", "randaugment", "finite", "iid"} <= set(PROTOCOLS)
    for name, protocol in PROTOCOLS.items():
        assert DeepTrainConfig(augment=name).augment == name
        fn = protocol.implementation()
        params = list(inspect.signature(fn).parameters)
        assert params[:2] == (["cfg", "data"] if protocol.fixed_set else ["images", "generator"]), name
        assert protocol.bank is None or callable(protocol.bank_of()), name


def test_the_library_never_prints():
    """Only the commands and the app write to the terminal; the library returns, or logs (logging.getLogger("bm"))."""
    printing = sorted(
        str(path.relative_to(ROOT.parent))
        for path in ROOT.rglob("*.py")
        if path.parent.name != "commands" and path.name != "cli.py"
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print"
    )
    assert printing == []


def test_the_benchmarks_and_scripts_import_what_bm_has():
    """A name moved inside bm is moved in benchmarks/ and scripts/ too (they are not imported by the tests)."""
    import importlib

    missing = []
    for path in [*(ROOT.parent / "benchmarks").glob("*.py"), *(ROOT.parent / "scripts").glob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "bm":
                module = importlib.import_module(node.module)
                for alias in node.names:
                    if not hasattr(module, alias.name):
                        try:
                            importlib.import_module(f"{node.module}.{alias.name}")
                        except ImportError:
                            missing.append(f"{path.name}: {node.module}.{alias.name}")
    assert missing == []
