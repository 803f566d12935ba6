"""The layout's rules (docs/development.md, "Layout") that import-linter does not express."""

import ast
import re
from importlib import resources
from pathlib import Path

import orjson

from stream import SCHEMA_VERSION
from stream.ingest.deadletters import REASON_CODES
from stream.pipeline import STAGE_NAMES
from stream.schemas import load_schema
from tests.support.paths import ROOT

# faust's private names newsstream uses: only stream/runtime/faust_internals.py may hold them.
FAUST_PRIVATE = re.compile(r"\b(_committed_offset|_read_offset|_new_transport|_build_highwaters"
                           r"|_new_consumer_thread|_recovery)\b")


def _python_files(*folders: str) -> list[Path]:
    return [path for folder in folders for path in (ROOT / folder).rglob("*.py")]


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def test_stream_has_few_top_level_modules() -> None:
    modules = sorted(path.name for path in (ROOT / "stream").glob("*.py"))
    assert len(modules) <= 8, modules


def test_faust_and_aiokafka_are_imported_by_the_runtime_tools_and_agents_only() -> None:
    # The dashboard's server is a Kafka client too (aiokafka, never faust: import-linter).
    allowed = (ROOT / "agents", ROOT / "stream" / "runtime", ROOT / "stream" / "tools",
               ROOT / "stream" / "dashboard" / "server.py")
    offenders = [str(path.relative_to(ROOT)) for path in _python_files("stream", "agents")
                 if _imports(path) & {"faust", "aiokafka", "mode"}
                 and not any(path.is_relative_to(place) for place in allowed)]
    assert offenders == []


def test_faust_private_names_live_in_one_module() -> None:
    holders = {str(path.relative_to(ROOT)) for path in _python_files("stream", "agents")
               if FAUST_PRIVATE.search(path.read_text())}
    assert holders == {"stream/runtime/faust_internals.py"}


def _agent_functions(tree: ast.Module) -> list[ast.AsyncFunctionDef]:
    return [node for node in ast.walk(tree) if isinstance(node, ast.AsyncFunctionDef)
            and any(isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute)
                    and d.func.attr == "agent" for d in node.decorator_list)]


def test_agents_have_the_shape_of_wiring() -> None:
    """An agent module registers its agents and nothing else; an agent takes its records
    through ``finished_events`` (log order, acknowledged only when done), handles each inside
    ``guarded`` (a failure is that record's dead letter, never a stopped partition), and holds
    no loop, retry or nested function of its own: logic belongs in the stage packages."""
    modules = [path for path in (ROOT / "agents").glob("*.py") if path.name != "__init__.py"]
    assert len(modules) == 4
    for path in modules:
        tree = ast.parse(path.read_text())
        functions = [node.name for node in tree.body
                     if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]
        assert functions == ["register"], (path.name, functions)
        agents = _agent_functions(tree)
        assert len(agents) == 1, path.name
        [agent] = agents
        loops = [node for node in agent.body if isinstance(node, ast.AsyncFor)]
        assert len(loops) == 1, path.name
        [loop] = loops
        assert isinstance(loop.iter, ast.Call) and isinstance(loop.iter.func, ast.Name) \
            and loop.iter.func.id == "finished_events", path.name
        handled = [node for node in loop.body if isinstance(node, ast.AsyncWith)]
        assert len(handled) == 1 and any(
            isinstance(item.context_expr, ast.Call) and isinstance(item.context_expr.func, ast.Name)
            and item.context_expr.func.id == "guarded" for item in handled[0].items), path.name
        inner = list(ast.walk(handled[0]))
        assert not [node for node in inner if isinstance(
            node, (ast.While, ast.Try, ast.AsyncFor, ast.FunctionDef, ast.AsyncFunctionDef,
                   ast.Lambda))], path.name
        assert sum(isinstance(node, ast.For) for node in inner) <= 1, path.name


def test_no_library_function_reads_the_environment_for_settings() -> None:
    readers = [str(path.relative_to(ROOT)) for path in _python_files("stream", "agents")
               if "load_settings(" in path.read_text() or "get_settings" in path.read_text()]
    assert sorted(readers) == ["stream/config/settings.py", "stream/tools/cli.py"]


def test_the_schemas_are_package_data() -> None:
    names = {item.name for item in resources.files("schemas").iterdir()
             if item.name.endswith(".schema.json")}
    assert names == {f"{name}.schema.json" for name in (
        "raw-article", "enriched-article", "entity-mention-count", "entity-trending",
        "dead-letter")}
    for name in names:
        orjson.loads(resources.files("schemas").joinpath(name).read_bytes())


def test_reason_codes_and_stages_are_the_contracts() -> None:
    schema = load_schema("dead-letter")["properties"]
    assert set(REASON_CODES) == set(schema["reason_code"]["enum"])
    assert set(STAGE_NAMES) <= set(schema["stage"]["enum"])
    for name in ("enriched-article", "entity-mention-count", "entity-trending", "dead-letter"):
        assert load_schema(name)["properties"]["schema_version"]["const"] == SCHEMA_VERSION


def test_the_dashboards_page_and_vendored_files_are_package_data() -> None:
    import fnmatch
    import tomllib

    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"]["stream"]
    static = ROOT / "stream" / "dashboard" / "static"
    files = [p.relative_to(ROOT / "stream").as_posix() for p in static.rglob("*") if p.is_file()]
    assert {"dashboard/static/index.html", "dashboard/static/vendor/uplot/LICENSE",
            "dashboard/static/vendor/inter/LICENSE"} <= set(files)
    # fnmatch's * also crosses "/", setuptools' does not: compare segment by segment.
    unpackaged = [f for f in files if not any(
        f.count("/") == p.count("/") and fnmatch.fnmatch(f, p) for p in patterns)]
    assert unpackaged == []


def test_no_import_cycle_in_the_product() -> None:
    """No module of stream/ or agents/ reaches itself through its imports (function-level
    imports included): a cycle makes import order matter and hides which side depends on
    which."""
    import grimp

    graph = grimp.build_graph("stream", "agents")
    cycles = [(module, other) for module in sorted(graph.modules)
              for other in graph.find_modules_directly_imported_by(module)
              if other.split(".")[0] in ("stream", "agents") and other != module
              and graph.chain_exists(importer=other, imported=module)]
    assert cycles == [], cycles[:5]


# Where the whole Settings may be taken: the commands and the compositions that hand each part
# its view (docs/development.md, "Settings").
SETTINGS_EDGES = {"stream/tools/cli.py", "stream/tools/demo.py", "stream/tools/worker.py",
                  "stream/tools/processes.py", "stream/runtime/app.py",
                  "stream/dashboard/server.py"}


def test_only_the_edges_take_the_whole_settings() -> None:
    takers = set()
    for path in _python_files("stream", "agents"):
        if "config" in path.relative_to(ROOT).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                arguments = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
                if any((isinstance(arg.annotation, ast.Name) and arg.annotation.id == "Settings")
                       or (isinstance(arg.annotation, ast.Constant)
                       and arg.annotation.value == "Settings") for arg in arguments):
                    takers.add(str(path.relative_to(ROOT)))
    assert takers <= SETTINGS_EDGES, takers - SETTINGS_EDGES
    assert "stream/runtime/app.py" in takers  # the check sees annotations at all
