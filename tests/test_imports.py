"""The modules the Snakefile declares as each step's inputs are the ones the step imports."""

import ast
import json
import subprocess
import sys

from ckptorder import orderings
from ckptorder.imports import PACKAGE, imported_modules, model_files
from conftest import PROJECT, STEPS


def test_the_declared_modules_are_what_python_really_imports():
    """Every import statement of each step (those main() runs once its arguments are checked
    too) run in a fresh interpreter, the package's modules then listed from sys.modules."""
    code = (
        "import ast, json, sys; sys.path.insert(0, sys.argv[1]);"
        "path = f'{sys.argv[1]}/{sys.argv[2]}.py';"
        "[exec(compile(ast.Module([node], []), path, 'exec'), {})"
        " for node in ast.walk(ast.parse(open(path).read()))"
        " if isinstance(node, (ast.Import, ast.ImportFrom))];"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('ckptorder'))))"
    )
    running = {
        step: subprocess.Popen(
            [sys.executable, "-c", code, str(PROJECT / "scripts"), step],
            stdout=subprocess.PIPE,
            text=True,
        )
        for step in STEPS
    }
    for step, process in running.items():
        imported = json.loads(process.communicate()[0])
        declared = imported_modules(PROJECT / "scripts" / f"{step}.py")
        as_modules = sorted(module_name(path) for path in declared)
        assert as_modules == imported, step


def module_name(path):
    """The dotted name of the package's file `path`."""
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_the_modules_export_and_load_import_by_name_are_declared_too():
    """export and load import each format's module by its registry name (cli.implementation):
    editing one must rerun them, so they are inputs too."""
    code = (
        "import json, sys; sys.path.insert(0, sys.argv[1]);"
        "from ckptorder import cli, orderings;"
        "[cli.implementation(getattr(f, sys.argv[2]))"
        " for f in orderings.FORMATS.values() if getattr(f, sys.argv[2])];"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('ckptorder.'))))"
    )
    for step in ("export", "load"):
        run = [sys.executable, "-c", code, str(PROJECT / "scripts"), step]
        imported = json.loads(subprocess.run(run, stdout=subprocess.PIPE, text=True).stdout)
        declared = imported_modules(
            PROJECT / "scripts" / f"{step}.py", orderings.implementation_modules(step)
        )
        names = {module_name(path) for path in declared}
        assert set(imported) <= names, step
        own = "exporting" if step == "export" else "loading"
        assert {f"ckptorder.{own}", "ckptorder.object_checkpoints"} <= names


def test_modules_imported_through_others_are_found(tmp_path):
    script = tmp_path / "step.py"
    script.write_text("import json\nfrom ckptorder import slice_csv\n")
    assert [path.name for path in imported_modules(script)] == [
        "__init__.py",
        "atomic.py",
        "network.py",
        "slice_csv.py",
        "slices.py",
    ]
    assert all(path.parent == PACKAGE for path in imported_modules(script))


def test_a_script_that_imports_none_of_the_package_needs_none(tmp_path):
    script = tmp_path / "step.py"
    script.write_text("import numpy\nfrom pathlib import Path\n")
    assert imported_modules(script) == []


def test_tensorflow_is_imported_through_tfsession_alone():
    """tfsession sets TensorFlow up (quiet start-up, CPU only) before it loads: a module that
    imported TensorFlow itself, first, would bring its start-up noise back into the logs."""
    for path in [*PACKAGE.rglob("*.py"), *(PROJECT / "scripts").glob("*.py")]:
        if path.name == "tfsession.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                imported = [node.module or ""]
            else:
                continue
            assert all(name.split(".")[0] != "tensorflow" for name in imported), path


def test_a_model_file_is_declared_with_the_modules_beside_it_that_it_imports(tmp_path):
    tests = PROJECT / "tests"
    assert model_files(tests / "tf2_checkpoints.py") == [
        tests / "savedmodels.py",
        tests / "tf2_checkpoints.py",
    ]
    broken = tmp_path / "broken.py"
    broken.write_text("import helper\ndef build(:\n")
    (tmp_path / "helper.py").write_text("")
    assert model_files(broken) == [broken]  # running it says what is wrong


def test_the_guard_imports_nothing_of_the_package_above_it():
    """The guard (ckptorder/guard/) is a layer of its own: of the package it imports, directly
    or through others, only TensorFlow's set-up (tfsession, and the file names it uses)."""
    below = {PACKAGE / "__init__.py", PACKAGE / "tfsession.py", PACKAGE / "checkpoint_files.py"}
    for path in (PACKAGE / "guard").glob("*.py"):
        outside = [
            file
            for file in imported_modules(path)
            if file.parent != PACKAGE / "guard" and file not in below
        ]
        assert outside == [], path


def test_no_module_that_runs_tensorflow_imports_the_tables():
    """The tables (pandas) are the report's: a TensorFlow step has no use for them."""
    for path in PACKAGE.rglob("*.py"):
        imported = imported_modules(path)
        if PACKAGE / "tfsession.py" in imported:
            assert PACKAGE / "tables.py" not in imported, path


def test_the_formats_import_nothing_of_the_package_but_themselves():
    """The formats (ckptorder/formats/) are the lowest layer: pure declarations, which the
    Snakefile, the report and every step read, so they may import nothing above them."""
    for path in (PACKAGE / "formats").glob("*.py"):
        outside = [
            file
            for file in imported_modules(path)
            if file.parent != PACKAGE / "formats" and file != PACKAGE / "__init__.py"
        ]
        assert outside == [], path
