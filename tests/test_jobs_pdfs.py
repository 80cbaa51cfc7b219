"""A batch of PDF scorecards through ``cpi worker``, and the worker killed in the middle."""

from __future__ import annotations

import threading

import pytest
from jobs_support import WorkerProcess
from support import pdf_text, wait_until

pytestmark = pytest.mark.slow

ACCOUNTS = 10


@pytest.fixture
def app_config(app_config, redis_server):  # type: ignore[no-untyped-def]
    return {**app_config, "REDIS_URL": redis_server.url, "JOBS_WAIT_SECONDS": 300}


@pytest.fixture
def answers(runner, write_csv) -> None:  # type: ignore[no-untyped-def]
    contacts = ["account_id,account_name,segment,contact_email"]
    responses = ["account_id,contact_email,period,fcr,csat,nps,comment"]
    for a in range(ACCOUNTS):
        for c in range(6):
            email = f"c{c}@acc{a}.example"
            contacts.append(f"ACC-{a:02d},Account number {a},Retail,{email}")
            responses.append(f"ACC-{a:02d},{email},2026-Q3,yes,{1 + (a + c) % 5},{(a * c) % 11},")
    for kind, rows in (("contacts", contacts), ("responses", responses)):
        path = write_csv(f"{kind}.csv", "\n".join(rows) + "\n")
        result = runner.invoke("import", kind, str(path))
        assert result.exit_code == 0, result.output


def test_a_batch_of_pdfs_through_the_worker(answers, runner, tmp_path, worker: WorkerProcess):  # type: ignore[no-untyped-def]
    worker.start()
    target = tmp_path / "pdfs.zip"
    result = runner.invoke(
        "scorecard", "--period", "2026-Q3", "--all-accounts", "-o", str(target),
        "--processes", "2",
    )  # fmt: skip
    assert result.exit_code == 0, result.output + worker.log()
    assert "queued as job" in result.output
    assert f"Wrote {ACCOUNTS} PDF scorecards for 2026-Q3" in result.output
    import zipfile

    with zipfile.ZipFile(target) as archive:
        names = sorted(archive.namelist())
        assert len(names) == ACCOUNTS
        first = archive.read(names[0])
    assert first.startswith(b"%PDF-")
    assert not list(tmp_path.glob("*.part"))


def test_worker_killed_mid_batch_writes_every_pdf_once(answers, runner, tmp_path, worker):  # type: ignore[no-untyped-def]
    folder = tmp_path / "pdfs"
    folder.mkdir()
    seen_at_kill: dict[str, tuple[int, int]] = {}

    def kill_when_some_are_written() -> None:
        wait_until(lambda: len(list(folder.glob("*.pdf"))) >= 3, 240, "the first PDFs")
        worker.kill()
        for path in folder.glob("*.pdf"):
            stat = path.stat()
            seen_at_kill[path.name] = (stat.st_ino, stat.st_mtime_ns)
        worker.start()

    killer = threading.Thread(target=kill_when_some_are_written, daemon=True)
    worker.start()
    killer.start()
    result = runner.invoke(
        "scorecard", "--period", "2026-Q3", "--all-accounts", "-o", str(folder),
        "--processes", "1",
    )  # fmt: skip
    killer.join(10)
    assert result.exit_code == 0, result.output + worker.log()
    assert worker.starts == 2 and "requeued job" in worker.log()
    assert f"Wrote {ACCOUNTS} PDF scorecards" in result.output

    pdfs = sorted(folder.iterdir())
    assert [p.suffix for p in pdfs] == [".pdf"] * ACCOUNTS  # no .part left behind
    assert {p.name.split("-2026")[0] for p in pdfs} == {f"ACC-{a:02d}" for a in range(ACCOUNTS)}
    # What was written before the kill was not written again after the restart.
    assert 3 <= len(seen_at_kill) < ACCOUNTS
    for name, (inode, mtime) in seen_at_kill.items():
        stat = (folder / name).stat()
        assert (stat.st_ino, stat.st_mtime_ns) == (inode, mtime), name
    assert "Account number 7" in pdf_text(folder / [p.name for p in pdfs][7])
