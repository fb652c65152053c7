"""Which of this package's modules a step's script imports, and which modules beside it a
user's model file imports, read from the code with `ast`: the Snakefile declares them as
inputs of the step's rule, so that editing one reruns the step (Snakemake's own code tracking
does not look into scripts run from `shell:`)."""

import ast
import functools
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


def imported_modules(script, by_name=()):
    """The package's module files that `script` imports, directly or through each other, and
    the modules `by_name` (names it imports with importlib) with theirs, sorted, with the
    package's `__init__.py` (imported with any of them) and each subpackage's on the way."""
    named = {file for name in by_name for file in module_files(name)}
    found, queue = set(named), [Path(script), *named]
    while queue:
        for path in _imported_files(queue.pop()):
            if path not in found:
                found.add(path)
                queue.append(path)
    return sorted([PACKAGE / "__init__.py", *found]) if found else []


@functools.cache
def _imported_files(path):
    """This package's files that `path` may import (the files decide which names are modules),
    each file read once per process: every rule asks about the modules its script shares."""
    files = []
    for node in ast.walk(ast.parse(Path(path).read_text())):
        if isinstance(node, ast.Import):
            dotted = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            dotted = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        else:
            continue
        for name in dotted:
            package, _, module = name.partition(".")
            if package == PACKAGE.name and module:
                files += module_files(module)
    return tuple(files)


def module_files(module):
    """The files importing `module` (dotted, within the package) runs: each subpackage's
    `__init__.py` on its way and the module's own file; none where a name on its way is no
    module (a function imported from one)."""
    *packages, last = module.split(".")
    folder, files = PACKAGE, []
    for package in packages:
        folder = folder / package
        if not (folder / "__init__.py").exists():
            return []
        files.append(folder / "__init__.py")
    for candidate in (folder / last / "__init__.py", folder / f"{last}.py"):
        if candidate.exists():
            return [*files, candidate]
    return []


def model_files(path):
    """The user's model file `path` and the modules beside it that it imports, directly or
    through each other, sorted (as `python FILE.py` finds them: its folder first). A file that
    does not parse is given alone: running it says what is wrong."""
    path = Path(path)
    found, queue = {path}, [path]
    while queue:
        try:
            tree = ast.parse(queue.pop().read_text())
        except (SyntaxError, ValueError, OSError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module]
            else:
                continue
            for name in names:
                beside = path.parent / f"{name.partition('.')[0]}.py"
                if beside.exists() and beside not in found:
                    found.add(beside)
                    queue.append(beside)
    return sorted(found)
