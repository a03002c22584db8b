"""No function in search/ is over 60 lines, from its def line to its last, docstring included:
a longer one does several things in one body."""

import ast
from pathlib import Path

SEARCH = Path(__file__).resolve().parents[2] / "search"
MAX_LINES = 60


def long_functions(root: Path) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            function = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            if function and node.end_lineno - node.lineno + 1 > MAX_LINES:
                found.append(f"{path.relative_to(root.parent)}:{node.lineno} {node.name}")
    return found


def test_no_function_in_search_is_over_60_lines():
    assert long_functions(SEARCH) == []


def test_a_function_of_61_lines_is_found_in_any_folder(tmp_path):
    body = "\n".join(f"    x = {i}" for i in range(MAX_LINES))
    for folder in (tmp_path / "search", tmp_path / "search" / "analysis"):
        folder.mkdir()
        (folder / "long.py").write_text(f"def long():\n{body}\n\n\ndef short():\n    pass\n")
    assert long_functions(tmp_path / "search") == [
        "search/analysis/long.py:1 long",
        "search/long.py:1 long",
    ]
