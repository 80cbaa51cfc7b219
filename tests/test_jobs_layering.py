"""cpi/jobs is infrastructure: it imports no feature, not even inside a function."""

from __future__ import annotations

import ast
from pathlib import Path

CPI = Path(__file__).resolve().parent.parent / "cpi"
# Shared modules below the features, which infrastructure may use.
SHARED = {"cpi", "cpi.jobs", "cpi.core_cli", "cpi.progress", "cpi.db", "cpi.timeutil"}
SHARED_PREFIXES = ("cpi.jobs.", "cpi.logcontext", "cpi.config")


def imported_modules(path: Path) -> set[str]:
    """Every module an ``import`` or ``from ... import`` anywhere in the file names."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            # `from cpi import surveys` names the package surveys
            if node.module == "cpi":
                names.update(
                    f"cpi.{alias.name}"
                    for alias in node.names
                    if (CPI / alias.name).is_dir() or (CPI / f"{alias.name}.py").is_file()
                )
    return names


def feature_imports(folder: Path) -> dict[str, set[str]]:
    found = {}
    for path in sorted(folder.glob("*.py")):
        features = {
            name
            for name in imported_modules(path)
            if name.startswith("cpi.")
            and name not in SHARED
            and not name.startswith(SHARED_PREFIXES)
        }
        if features:
            found[path.name] = features
    return found


def test_jobs_imports_no_feature() -> None:
    assert (CPI / "jobs" / "dispatch.py").is_file()
    assert feature_imports(CPI / "jobs") == {}


def test_the_check_sees_imports_inside_functions(tmp_path: Path) -> None:
    (tmp_path / "sneaky.py").write_text(
        "def f():\n    from cpi.surveys import operations\n    import cpi.mail.outbox\n"
        "from cpi import scorecards\n"
    )
    assert feature_imports(tmp_path) == {
        "sneaky.py": {"cpi.surveys", "cpi.mail.outbox", "cpi.scorecards"}
    }


def test_every_task_is_registered_by_its_feature(app) -> None:  # type: ignore[no-untyped-def]
    """The app factory imports the features' tasks modules; each task lives in one."""
    from cpi.jobs import tasks

    owners = {name: spec.func.__module__ for name, spec in tasks.TASKS.items()}
    assert owners == {
        "deliver_outbox": "cpi.mail.tasks",
        "send_campaign": "cpi.surveys.tasks",
        "remind_campaign": "cpi.surveys.tasks",
        "schedule_tick": "cpi.surveys.tasks",
        "import_csv": "cpi.imports.tasks",
        "render_scorecards": "cpi.scorecards.tasks",
        "followup_digest": "cpi.followups.tasks",
    }
