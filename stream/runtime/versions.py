"""The libraries whose internals the runtime relies on run only at versions they were checked
against: a release that renamed a private attribute would fail silently otherwise."""

from __future__ import annotations

from importlib.metadata import version


class UnverifiedLibrary(RuntimeError):
    """An installed library is not a version newsstream's use of its internals was verified on."""


def require_verified(package: str, verified: tuple[str, ...], relied_on_by: str,
                     installed: str | None = None) -> None:
    """Raise :class:`UnverifiedLibrary`, naming both versions and what to do, unless the
    installed ``package`` (or ``installed``) is one of ``verified``."""
    found = installed if installed is not None else version(package)
    if found not in verified:
        raise UnverifiedLibrary(
            f"{package} {found} is installed, but newsstream relies on its internals "
            f"({relied_on_by}) and was verified on {', '.join(verified)} only: install "
            f"{package}=={verified[-1]}, or verify the new version (run the tests) and add it "
            f"to the verified versions there")
