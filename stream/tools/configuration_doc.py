"""``docs/configuration.md``, generated from :class:`stream.config.Settings` and its views:
every ``NEWSSTREAM_*`` variable with its default and its field's description, so the reference
can never drift from the code (``make docs`` writes it; a test fails when they differ).

Usage: ``python -m stream.tools.configuration_doc > docs/configuration.md``
"""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

from stream.config import Settings
from stream.config.views import VIEWS, settings_of

INTRO = """\
# Configuration

<!-- Generated from stream/config/ by `make docs`: edit the fields' descriptions there. -->

Every setting is an environment variable, read by one typed object
(`stream/config/settings.py`) and handed to each part of newsstream as the view it reads
(`stream/config/views.py`): the sections below are those views. A bad
value stops any command with one line naming the variable, the value and what is allowed (exit
2; a broker URL that is not `kafka://host:port[;host:port]` included); a `NEWSSTREAM_*`
variable that is no setting is warned about with the closest name, and so is a variable whose
prefix is a misspelling of it (`NEWSTREAM_BROKER_URL`).

A broker that cannot be had is one line that says what happened and names
`NEWSSTREAM_BROKER_URL`: nothing accepting connections there (refused), no such host, no
answer within `NEWSSTREAM_BROKER_TIMEOUT_S`, a TLS connection it did not accept, or a login it
refused.
"""

HEADER = """\
| variable | default | meaning |
|---|---|---|
"""


def _default(value: Any) -> str:
    if value is None or value == "" or isinstance(value, SecretStr):
        return "unset"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, list):
        return f"`{','.join(str(item) for item in value)}`"
    if isinstance(value, float) and value.is_integer():
        return f"`{int(value)}`"
    return f"`{value}`"


def render() -> str:
    """The reference: one section per view, each setting under the first view that reads it
    (where two views share one, the later says so)."""
    prefix = str(Settings.model_config.get("env_prefix", ""))
    fields = Settings.model_fields
    placed: dict[str, str] = {}
    sections = []
    for kind in VIEWS:
        title = kind.__name__
        summary = " ".join((kind.__doc__ or "").split())
        rows = []
        for name in settings_of(kind):
            if name in placed:
                rows.append(f"| `{prefix}{name.upper()}` | | see {placed[name]} |")
                continue
            placed[name] = title
            field = fields[name]
            meaning = (field.description or "").replace("|", "\\|").replace("\n", " ")
            rows.append(f"| `{prefix}{name.upper()}` | {_default(field.default)} | {meaning} |")
        sections.append(f"## {title}\n\n{summary}\n\n{HEADER}" + "\n".join(rows) + "\n")
    return INTRO + "\n" + "\n".join(sections)


if __name__ == "__main__":
    print(render(), end="")
