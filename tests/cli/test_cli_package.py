"""The command line is a package whose modules stand on ``common`` alone: no module takes a
private (``_name``) name out of another, none imports the package's other command modules, and
the ``graphsvc`` console script and ``python -m graphsvc`` still reach the same app."""

from __future__ import annotations

import ast
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import typer.core
import typer.main
from tests_support import PKG_PARENT

import graphsvc.cli
from graphsvc.cli import app

CLI_DIR = Path(graphsvc.cli.__file__).resolve().parent
MODULES = sorted(CLI_DIR.glob("*.py"))


def _imports(path: Path) -> list[tuple[ast.stmt, str, list[str]]]:
    """Every import of a graphsvc or visual module in the file: (node, module, names)."""
    found: list[tuple[ast.stmt, str, list[str]]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path.name}: relative import"
            found.append((node, node.module or "", [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            found.extend((node, a.name, []) for a in node.names)
    return [f for f in found if f[1].split(".")[0] in ("graphsvc", "visual")]


def test_the_package_has_its_modules() -> None:
    names = {p.stem for p in MODULES}
    assert {"__init__", "common", "data", "audit", "serve", "visualize", "risks", "repair",
            "requests", "trends"} <= names
    assert not list(CLI_DIR.parent.glob("cli_*.py")), "a flat cli_*.py is left beside the package"


def test_no_module_imports_a_private_name_of_another() -> None:
    wrong = []
    for path in MODULES:
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        modules = set()  # names bound to imported modules (`from graphsvc.cli import common`)
        for node, module, names in _imports(path):
            for name in names:
                if name.startswith("_"):
                    wrong.append(f"{path.name}:{node.lineno}: from {module} import {name}")
                else:
                    modules.add(name)
            if not names and any(part.startswith("_") for part in module.split(".")[1:]):
                wrong.append(f"{path.name}:{node.lineno}: import {module}")
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id in modules and node.attr.startswith("_")
                    and not node.attr.startswith("__")):
                wrong.append(f"{path.name}:{node.lineno}: {node.value.id}.{node.attr}")
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "__import__":
                wrong.append(f"{path.name}:{node.lineno}: __import__")
    assert not wrong, "\n".join(wrong)


def test_command_modules_stand_on_common_alone() -> None:
    """common <- each command module <- __init__: no cycle, none hidden in a function."""
    for path in MODULES:
        inside = set()  # the modules of graphsvc.cli this file imports
        for _, module, names in _imports(path):
            if module == "graphsvc.cli":
                inside |= {f"graphsvc.cli.{n}" for n in names}
            elif module.startswith("graphsvc.cli."):
                inside.add(module)
        if path.stem == "common":
            assert not inside, f"common imports {inside}"
        elif path.stem not in ("__init__", "__main__"):
            assert inside == {"graphsvc.cli.common"}, f"{path.name} imports {inside}"


def test_console_script_and_module_are_the_same_app(tmp_path: Path) -> None:
    (script,) = [e for e in entry_points(group="console_scripts") if e.name == "graphsvc"]
    assert script.value == "graphsvc.cli:app" and script.load() is app
    group = typer.main.get_command(app)
    assert isinstance(group, typer.core.TyperGroup)
    # every command of spec/API.md, in the order `graphsvc --help` has always listed them
    assert list(group.commands) == [
        "import", "export", "generate", "summary", "refresh", "serve", "audit-log", "visualize",
        "trends",
        "audit", "keys", "risks", "repair", "requests"]
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": PKG_PARENT}
    for module in ("graphsvc", "graphsvc.cli"):
        r = subprocess.run([sys.executable, "-m", module, "--help"], capture_output=True,
                           text=True, cwd=tmp_path, timeout=120, env=env, check=False)
        assert r.returncode == 0, r.stderr
        assert "Who supports whom in a county" in r.stdout and "requests" in r.stdout
