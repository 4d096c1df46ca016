"""The console's paths: its pages sign in by session cookie, not by bearer token."""

from __future__ import annotations

CONSOLE_PATHS = frozenset(
    {
        "/",
        "/sign-in",
        "/sign-in/oidc",
        "/sign-in/oidc/callback",
        "/sign-out",
        "/relationships",
        "/preferences",
        "/profile",
    }
)
CONSOLE_PATH_PREFIXES = ("/relationships/", "/hr/", "/profile/", "/static/")


def is_console_path(path: str) -> bool:
    """Whether ``path`` is a console page or one of its static files."""
    return path in CONSOLE_PATHS or path.startswith(CONSOLE_PATH_PREFIXES)
