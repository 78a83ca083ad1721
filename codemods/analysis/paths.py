"""What a file's path says about it."""

from __future__ import annotations

TEST_FOLDERS = ("tests", "test")


def is_test_path(path: str) -> bool:
    """A test module (``tests/``, ``test_*.py``, ``*_test.py``, ``conftest.py``), by its posix path."""
    *folders, filename = path.split("/")
    return (
        any(folder in TEST_FOLDERS for folder in folders)
        or filename.startswith("test_")
        or filename.endswith("_test.py")
        or filename == "conftest.py"
    )


def module_name(path: str) -> str:
    """The dotted module name a posix path has when its scanned folder is on sys.path."""
    parts = path[: -len(".py")].split("/") if path.endswith(".py") else path.split("/")
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)
