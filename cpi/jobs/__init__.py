"""Background jobs on Redis with RQ, and the schedule run by ``cpi worker``.

Why RQ rather than Celery: the jobs here are a handful of plain functions (send a
campaign, deliver the outbox, render a batch of PDFs, import a large file, the
schedule tick) on one Redis. RQ needs Redis only, no broker configuration, no result
backend and no separate beat process; a job is "import path + arguments", which keeps
the worker a thin shell around the same operations the commands call in-process.

This package is infrastructure and imports no feature: each feature registers its
tasks (:func:`cpi.jobs.tasks.task`) in its own ``tasks.py``, which the app factory
imports, and its commands run them through :func:`cpi.jobs.dispatch.dispatch`, in-process
without a queue and on a worker with one: one code path per job.

Every job is idempotent, because a worker can die at any instruction: the database,
not the queue, is the record of what is done (an invitation is queued once, an outbox
message is marked sent once, a PDF is renamed into place once), so running a job
again finishes the work without doing any of it twice.
"""
