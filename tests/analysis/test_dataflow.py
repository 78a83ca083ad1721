"""Definite assignment and liveness of a function's locals (codemods.analysis.dataflow).

Each case is a function whose statements between ``# start`` and ``# end`` (in the block that
holds the markers) are the piece asked about.
"""

from __future__ import annotations

import textwrap

import libcst as cst
import pytest

from codemods.analysis.dataflow import defined_before, effects, live_after, local_names


def piece(source: str) -> tuple[cst.FunctionDef, cst.IndentedBlock, int, int]:
    """The function, the block holding the markers, and the piece's start and end indexes."""
    function = cst.parse_module(textwrap.dedent(source)).body[0]
    assert isinstance(function, cst.FunctionDef)
    pending: list[cst.CSTNode] = [function.body]
    while pending:
        node = pending.pop()
        if isinstance(node, cst.IndentedBlock):
            comments = [
                [line.comment.value for line in getattr(s, "leading_lines", ()) if line.comment] for s in node.body
            ]
            starts = [i for i, c in enumerate(comments) if "# start" in c]
            if starts:
                ends = [i for i, c in enumerate(comments) if "# end" in c]
                end = ends[0] if ends else len(node.body)
                return function, node, starts[0], end
        pending.extend(node.children)
    raise AssertionError("no # start marker")


def answers(source: str) -> tuple[set[str], set[str], set[str], set[str], set[str]]:
    function, block, start, end = piece(source)
    local = local_names(function)
    found = effects(block.body[start:end], local)
    return (
        set(found.exposed),
        set(found.assigned),
        set(found.definite),
        set(defined_before(function, block, start, local)),
        set(live_after(function, block, end, local)),
    )


@pytest.mark.parametrize(
    ("source", "exposed", "assigned", "definite", "bound_before", "live"),
    [
        pytest.param(
            """
            def f(entries, user):
                for field_id, value in checks():
                    pass
                # start
                for field_id, value in entries.items():
                    save(field_id, value, user)
                # end
                return user
            """,
            {"entries", "user"}, {"field_id", "value"}, set(), {"entries", "user"}, {"user"},
            id="loop-variables-are-assigned-not-read",
        ),
        pytest.param(
            """
            def f(flag):
                if flag:
                    level = 1
                else:
                    level = 2
                # start
                note = make(level)
                # end
                return note
            """,
            {"level"}, {"note"}, {"note"}, {"flag", "level"}, {"note"},
            id="both-branches-bind-before",
        ),
        pytest.param(
            """
            def f(flag):
                if flag:
                    level = 1
                # start
                note = make(level)
                # end
                return note
            """,
            {"level"}, {"note"}, {"note"}, {"flag"}, {"note"},
            id="one-branch-binds-before",
        ),
        pytest.param(
            """
            def f(flag):
                if not flag:
                    return None
                else:
                    level = 2
                # start
                note = make(level)
                # end
            """,
            {"level"}, {"note"}, {"note"}, {"flag", "level"}, set(),
            id="a-branch-that-returns-does-not-join",
        ),
        pytest.param(
            """
            def f(note):
                # start
                if note is None:
                    note = make()
                # end
                return note
            """,
            {"note"}, {"note"}, set(), {"note"}, {"note"},
            id="assigned-on-some-paths",
        ),
        pytest.param(
            """
            def f(rows):
                total = 0
                for row in rows:
                    # start
                    total = total + row
                    # end
                return total
            """,
            {"total", "row"}, {"total"}, {"total"}, {"rows", "total", "row"}, {"rows", "total"},
            id="loop-carried-value-is-live-at-the-next-iteration",
        ),
        pytest.param(
            """
            def f(rows):
                for row in rows:
                    # start
                    if row:
                        print(last)
                    last = row
                    # end
            """,
            {"row", "last"}, {"last"}, {"last"}, {"rows", "row"}, {"rows", "last"},
            id="read-before-assigned-in-the-loop",
        ),
        pytest.param(
            """
            def f(items):
                # start
                names = [item.name for item in items]
                found = {key: value for key, value in pairs(names)}
                # end
                return item
            """,
            {"items"}, {"names", "found"}, {"names", "found"}, {"items"}, set(),
            id="comprehension-variables-are-their-own",
        ),
        pytest.param(
            """
            def f(data):
                # start
                try:
                    value = parse(data)
                except ValueError as error:
                    value = None
                # end
                return value, error
            """,
            {"data"}, {"value", "error"}, {"value"}, {"data"}, {"value", "error"},
            id="try-and-handler-name",
        ),
        pytest.param(
            """
            def f(data):
                # start
                with open(data) as handle:
                    text = handle.read()
                # end
                return text
            """,
            {"data"}, {"handle", "text"}, {"handle"}, {"data"}, {"text"},
            id="with-may-suppress",
        ),
        pytest.param(
            """
            def f(data):
                # start
                if (n := len(data)) > 2:
                    x = n
                # end
                helper = lambda: x
                return helper
            """,
            {"data"}, {"n", "x"}, {"n"}, {"data"}, {"x"},
            id="walrus-and-closure",
        ),
        pytest.param(
            """
            def f(data, flag):
                # start
                ok = flag and (m := len(data))
                size = (k := 1) + 2 if flag else (j := 2)
                total = (t := size) + len([u for u in data if (w := u)])
                # end
                return ok
            """,
            {"data", "flag"}, {"ok", "m", "size", "k", "j", "total", "t", "w"}, {"ok", "size", "total", "t"},
            {"data", "flag"}, {"ok"},
            id="walrus-only-where-it-always-runs-is-certain",
        ),
        pytest.param(
            """
            def f(data):
                # start
                x = 1
                # end
                x = 2
                return x
            """,
            set(), {"x"}, {"x"}, {"data"}, set(),
            id="reassigned-before-read-is-dead",
        ),
        pytest.param(
            """
            def f(command):
                match command:
                    case {"go": where}:
                        target = where
                    case _:
                        target = None
                # start
                save(target)
                # end
            """,
            {"target"}, set(), set(), {"command"}, set(),
            id="match-cases-are-not-certain",
        ),
    ],
)
def test_dataflow(
    source: str, exposed: set[str], assigned: set[str], definite: set[str], bound_before: set[str], live: set[str]
) -> None:
    assert answers(source) == (exposed, assigned, definite, bound_before, live)


def test_local_names_include_parameters_and_every_binding_but_nested_scopes() -> None:
    function = cst.parse_module(
        textwrap.dedent(
            """
            def f(a, *args, b=1, **kw):
                x = y = 1
                for i, (j, k) in pairs:
                    pass
                with ctx() as c:
                    import os.path, json as j2
                z: int
                def inner(q):
                    hidden = q
                values = [h for h in range(3) if (w := h)]
            """
        )
    ).body[0]
    assert isinstance(function, cst.FunctionDef)
    assert local_names(function) == {
        "a", "args", "b", "kw", "x", "y", "i", "j", "k", "c", "os", "j2", "z", "inner", "values", "w",
    }  # fmt: skip
