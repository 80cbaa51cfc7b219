"""cpi.scoring is a library: the standard library and numpy only, no Flask, no SQLAlchemy."""

import ast
import subprocess
import sys
from pathlib import Path

SCORING = Path(__file__).resolve().parents[2] / "cpi" / "scoring"

# Load cpi.scoring without running cpi/__init__.py (which builds the Flask app),
# so the check is about the scoring package's own imports.
PROBE = f"""
import sys, types
package = types.ModuleType("cpi")
package.__path__ = [{str(SCORING.parent)!r}]
sys.modules["cpi"] = package
import cpi.scoring
heavy = ("flask", "sqlalchemy", "scipy", "statsmodels")
heavy = sorted(m for m in sys.modules if m.split(".")[0] in heavy)
print(",".join(heavy))
"""


def test_importing_scoring_loads_neither_flask_nor_sqlalchemy() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == ""


def test_scoring_imports_only_the_standard_library_and_numpy() -> None:
    for path in SCORING.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                assert name.startswith("cpi.scoring") or top in {
                    *sys.stdlib_module_names,
                    "numpy",
                }, f"{path.name} imports {name}"
