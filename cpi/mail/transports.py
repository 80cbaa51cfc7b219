"""Where email goes, from ``CPI_MAIL_URL``: a folder of .eml files, or an SMTP server.

A transport either delivers a message or raises one of three errors, which the
outbox turns into a state: ``TemporaryFailure`` (retry with backoff),
``PermanentFailure`` (bounced) or ``ServerUnavailable`` (stop this run; keep
everything queued).
"""

from __future__ import annotations

import os
import smtplib
import ssl
import tempfile
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit


class TemporaryFailure(Exception):
    """The server answered 4xx: try again later."""


class PermanentFailure(Exception):
    """The server answered 5xx for this recipient or message: it bounced."""


class ServerUnavailable(Exception):
    """No server to talk to (refused, timed out, disconnected)."""


class Transport(Protocol):
    def send(self, outbox_id: int, sender: str, recipient: str, raw: bytes) -> None: ...

    def close(self) -> None: ...


class FileTransport:
    """One ``<outbox id>.eml`` per message, written atomically (rename into place)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, outbox_id: int, sender: str, recipient: str, raw: bytes) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
            with os.fdopen(fd, "wb") as handle:
                handle.write(raw)
            os.replace(tmp, self.folder / f"{outbox_id:010d}.eml")
        except OSError as error:
            raise ServerUnavailable(f"cannot write {self.folder}: {error}") from error

    def close(self) -> None:
        pass


class SmtpTransport:
    """``smtp://[user:password@]host[:port][?starttls=1]`` or ``smtps://`` (TLS from the start).

    One connection is opened lazily and reused for the whole run.
    """

    def __init__(self, url: str, timeout: float = 30.0) -> None:
        parts = urlsplit(url)
        self.tls = parts.scheme == "smtps"
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or (465 if self.tls else 25)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.starttls = parse_qs(parts.query).get("starttls", ["0"])[0] in ("1", "true", "yes")
        self.timeout = timeout
        self._smtp: smtplib.SMTP | None = None

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is None:
            context = ssl.create_default_context()
            try:
                if self.tls:
                    smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                        self.host, self.port, timeout=self.timeout, context=context
                    )
                else:
                    smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
                    if self.starttls:
                        smtp.starttls(context=context)
                if self.username:
                    smtp.login(self.username, self.password or "")
            except smtplib.SMTPAuthenticationError as error:
                raise ServerUnavailable(f"SMTP login refused: {error.smtp_code}") from error
            except (OSError, smtplib.SMTPException) as error:
                raise ServerUnavailable(f"cannot reach {self.host}:{self.port}: {error}") from error
            self._smtp = smtp
        return self._smtp

    def send(self, outbox_id: int, sender: str, recipient: str, raw: bytes) -> None:
        smtp = self._connection()
        try:
            smtp.sendmail(sender, [recipient], raw)
        except smtplib.SMTPRecipientsRefused as error:
            code, reply = next(iter(error.recipients.values()))
            raise _by_code(code, reply) from error
        except smtplib.SMTPSenderRefused as error:
            # Our own sender address refused: a configuration problem, never the contact's.
            self._drop()
            reply = _text(error.smtp_error)
            raise TemporaryFailure(f"{error.smtp_code} sender refused: {reply}") from error
        except smtplib.SMTPResponseException as error:
            self._drop()
            raise _by_code(error.smtp_code, error.smtp_error) from error
        except (OSError, smtplib.SMTPException) as error:
            self._drop()
            raise ServerUnavailable(f"lost {self.host}:{self.port}: {error}") from error

    def _drop(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()

    def close(self) -> None:
        self._drop()


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _by_code(code: int, reply: bytes | str) -> Exception:
    message = f"{code} {_text(reply)}"
    return PermanentFailure(message) if code >= 500 else TemporaryFailure(message)


def open_transport(mail_url: str, timeout: float = 30.0) -> Transport:
    scheme = urlsplit(mail_url).scheme
    if scheme == "file":
        return FileTransport(Path(unquote(urlsplit(mail_url).path)))
    if scheme in ("smtp", "smtps"):
        return SmtpTransport(mail_url, timeout=timeout)
    raise ValueError(
        f"CPI_MAIL_URL: unsupported scheme {scheme!r} (use file://, smtp://, smtps://)"
    )
