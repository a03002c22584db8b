"""Keep secrets out of printed lines: URL passwords and password-like query values."""

from __future__ import annotations

import re

from errors import UsageError

MASK = "***"
URL = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s\"'<>]*")
SECRET_VALUE = re.compile(
    r"([\w.\-]*(?:password|passwd|pwd|secret|token)[\w.\-]*=)[^&\s\"';]*", re.IGNORECASE
)


def mask_password(text: str) -> str:
    """`text` with the password of every URL in it, and every password-like `key=value` (such as
    `?sslpassword=…`), replaced by ***.

    Example:
        >>> mask_password("cannot open mysql+pymysql://u:p@ss@db/x?sslpassword=k")
        'cannot open mysql+pymysql://u:***@db/x?sslpassword=***'
    """
    return SECRET_VALUE.sub(rf"\1{MASK}", URL.sub(lambda m: mask_url(m.group()), text))


def mask_url(url: str) -> str:
    """`url` with its password replaced by ***, written as SQLAlchemy's
    `make_url(url).render_as_string(hide_password=True)` writes it, the rest left as it was.

    SQLAlchemy itself is not used: it ends the password at its first `@`, so the tail of a
    password holding an unencoded `@` would show as part of the host. The password ends at the
    last `@` instead.
    """
    scheme, _, rest = url.partition("://")
    userinfo, at, location = rest.rpartition("@")
    if not at or ":" not in userinfo or userinfo.startswith("/"):
        return url  # no password, or an '@' in a path (journal:///a@b.log)
    user = userinfo.split(":", 1)[0]
    return f"{scheme}://{user}:{MASK}@{location}"


def refuse_unencoded_at(url: str) -> None:
    """A UsageError when the part of a server's `url` after `://` holds more than one `@`.

    A driver ends the password at its first `@` and takes the rest for the host, so its own
    error ("failed to resolve host 'ss@127.0.0.1'") would print the password's tail, which no
    mask can find in the driver's words. The URL is refused before any connection is made.
    """
    rest = url.partition("://")[2]
    if rest.count("@") > 1:
        raise UsageError(
            f"storage URL {mask_password(url)} holds more than one '@': percent-encode an '@' "
            "in the user name or password as %40 (a password pa@ss becomes pa%40ss); a driver "
            "would take what follows the first '@' for the host"
        )
