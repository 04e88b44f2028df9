"""What munl reads from a Python file without running it (no torch import, stdlib only).

    python _inspect.py FILE...

prints one JSON object: the interpreter's and torch's versions, and per file its syntax error or
its functions (their positional parameters and keyword-only fields: munl's fields), its classes
(their constructors' parameters, the same way) and the local modules it imports, transitively. `munl check` runs this once per `.munl` file
that declares Python ops; the fields are checked against the `.munl` block from it.
"""

import ast
import importlib.metadata
import json
import os
import sys

# The annotations munl understands, as munl's field types.
TYPES = {"int": "int", "float": "float", "bool": "bool", "str": "str"}


def literal_type(value):
    """The munl type of a default value, or None."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    return None


def field(arg, default):
    """One keyword-only parameter as a munl field, or a problem (a string)."""
    name = arg.arg
    line = arg.lineno
    ty = None
    if arg.annotation is not None:
        ann = arg.annotation
        if isinstance(ann, ast.Name) and ann.id in TYPES:
            ty = TYPES[ann.id]
        else:
            return f"line {line}: `{name}` is annotated `{ast.unparse(ann)}`; munl fields are int, float, bool or str"
    value = None
    if default is not None:
        try:
            value = ast.literal_eval(default)
        except ValueError:
            return f"line {line}: the default of `{name}` is not a literal (`{ast.unparse(default)}`)"
        found = literal_type(value)
        if found is None:
            return f"line {line}: the default of `{name}` is {type(value).__name__}; munl fields are int, float, bool or str"
        if ty is None:
            ty = found
        elif ty == "float" and found == "int":
            value = float(value)
        elif ty != found:
            return f"line {line}: `{name}` is annotated {ty} but its default `{ast.unparse(default)}` is {found}"
    if ty is None:
        return f"line {line}: `{name}` needs a type: annotate it (`{name}: float`) or give it a default"
    out = {"name": name, "type": ty, "line": line}
    if default is not None:
        out["default"] = value
    return out


def function(node, method=False):
    args = node.args
    positional = [a.arg for a in args.posonlyargs + args.args]
    if method:
        positional = positional[1:]  # self
    fields, problems = [], []
    for arg, default in zip(args.kwonlyargs, args.kw_defaults):
        f = field(arg, default)
        (problems if isinstance(f, str) else fields).append(f)
    if args.vararg is not None:
        problems.append(f"line {node.lineno}: `*{args.vararg.arg}`: munl passes no extra positional arguments")
    if args.kwarg is not None:
        problems.append(f"line {node.lineno}: `**{args.kwarg.arg}`: munl's fields are keyword-only parameters, each named")
    return {"line": node.lineno, "positional": positional, "fields": fields, "problems": problems}


def local_imports(tree, folder, package_dir):
    """Files of modules the tree imports that live next to it (not installed packages)."""
    found = []
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [(0, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            names = [(node.level, base)]
            names += [(node.level, f"{base}.{a.name}" if base else a.name) for a in node.names]
        for level, dotted in names:
            root = folder if level == 0 else package_dir(level)
            if root is None or not dotted:
                continue
            path = os.path.join(root, *dotted.split("."))
            for candidate in (path + ".py", os.path.join(path, "__init__.py")):
                if os.path.isfile(candidate):
                    found.append(os.path.abspath(candidate))
    return found


def modules_of(path):
    """The local modules `path` imports, transitively, without itself."""
    seen, todo = set(), [os.path.abspath(path)]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        try:
            with open(current, encoding="utf-8") as f:
                tree = ast.parse(f.read(), current)
        except (OSError, SyntaxError, ValueError):
            continue
        folder = os.path.dirname(current)

        def package_dir(level, folder=folder):
            d = folder
            for _ in range(level - 1):
                d = os.path.dirname(d)
            return d

        todo.extend(local_imports(tree, folder, package_dir))
    seen.discard(os.path.abspath(path))
    return sorted(seen)


def inspect(path):
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        return {"error": {"message": e.strerror or str(e), "line": None}}
    try:
        tree = ast.parse(text, path)
    except SyntaxError as e:
        return {"error": {"message": f"{e.msg}", "line": e.lineno}}
    functions, classes = {}, {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            functions[node.name] = function(node)
        elif isinstance(node, ast.ClassDef):
            # A model class: its constructor's parameters (without `self`); one defined
            # elsewhere (inherited) is reported as having none.
            init = next((b for b in node.body if isinstance(b, ast.FunctionDef) and b.name == "__init__"), None)
            if init is None:
                classes[node.name] = {"line": node.lineno, "positional": [], "fields": [], "problems": []}
            else:
                classes[node.name] = function(init, method=True)
    return {"functions": functions, "classes": classes, "modules": modules_of(path)}


def torch_version():
    try:
        return importlib.metadata.version("torch")
    except importlib.metadata.PackageNotFoundError:
        return None


def main(paths):
    out = {
        "python": sys.version.split()[0],
        "torch": torch_version(),
        "files": {p: inspect(p) for p in paths},
    }
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1:])
