"""Every shortcut around libcst internals, in one place."""
