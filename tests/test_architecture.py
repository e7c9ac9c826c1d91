"""The layering rules of docs/design.md, checked from the import statements (tools/import_graph.py)."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("import_graph", ROOT / "tools" / "import_graph.py")
import_graph = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(import_graph)


def test_the_packages_have_no_import_cycle_and_no_module_over_300_lines():
    assert import_graph.problems(ROOT) == []


def write(root, name, text):
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_a_cycle_hidden_in_a_function_and_through_a_package_is_found(tmp_path):
    write(tmp_path, "pkg/__init__.py", "from .a import f\n")
    write(tmp_path, "pkg/a.py", "from . import b\n\ndef f():\n    pass\n")
    write(tmp_path, "pkg/b.py", "def g():\n    from .a import f\n    return f\n")
    write(tmp_path, "pkg/c.py", "import pkg\n")  # c -> pkg -> a -> b -> a: a cycle a <-> b; pkg is not on it
    write(tmp_path, "pkg/sub/__init__.py", "from ..c import *\nfrom .. import d\n")
    write(tmp_path, "pkg/d.py", "from .sub import x\n" + "\n" * 300)
    assert import_graph.problems(tmp_path, ("pkg",)) == [
        "import cycle: pkg.a <-> pkg.b",
        "import cycle: pkg.d <-> pkg.sub",
        "pkg.d: 301 lines (at most 300)",
    ]


def test_layers_shared_mask_imports_no_domain_and_the_domains_not_each_other():
    known = import_graph.modules(ROOT)
    for name, path in known.items():
        top = {target.split(".")[0] for target in import_graph.imports(name, path, known)}
        allowed = {"shared_mask"} if name.startswith("shared_mask") else {"shared_mask", name.split(".")[0]}
        assert top <= allowed, f"{name} imports {sorted(top - allowed)}"


def test_the_fairseq_plugin_never_imports_the_driver():
    known = import_graph.modules(ROOT)
    for name, path in known.items():
        if name.startswith("fairseq_lth.plugin"):
            targets = import_graph.imports(name, path, known)
            assert not [t for t in targets if t.startswith("fairseq_lth.driver")], name
