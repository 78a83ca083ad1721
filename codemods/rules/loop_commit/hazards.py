"""Loops whose per-item commit is a checkpoint: batching them would change what a crash leaves.

Three shapes, each a reason for loop-commit to decline:

* a loop that cannot be shown to end (a worker or consumer): the commit after it may never run;
* a loop whose body has an effect outside the database (a payment, an e-mail, a task, a file):
  the per-item commit records that the effect happened, item by item;
* a loop whose commit closes a deliberate chunk (bulk operations, iterating over batches):
  one transaction per chunk is the point of the loop.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Collection, Iterator, Sequence

import libcst as cst

from codemods.analysis.nodes import NESTED_SCOPES, dotted_name
from codemods.analysis.sessions import bindings, method_calls
from codemods.speedups.walk import children

Loop = cst.For | cst.While

# Calls with an effect outside the database, by what they reach.  Patterns match the called
# name read through calls (``open(path).write`` -> ``open.write``), with fnmatch's ``*``.
EFFECT_CALLS: dict[str, tuple[str, ...]] = {
    "network": (
        "requests.*", "httpx.*", "aiohttp.*", "urllib.request.*", "urlopen", "*.urlopen", "*.post", "*webhook*",
    ),
    "mail": ("smtplib.*", "*.sendmail", "*.send_mail", "send_mail", "send_mass_mail", "mail_admins", "*.send_message"),
    "messaging": ("send_*", "*.send", "*.send_*", "*.publish", "*.basic_publish", "*.produce", "*.enqueue", "*.xadd", "*.lpush"),
    "task": ("*.delay", "*.apply_async", "*.send_task", "*.enqueue_call", "*.kiq", "*.defer"),
    "payment": (
        "charge*", "*.charge*", "*.refund*", "*.capture*", "*.payout*", "*payment*", "stripe.*", "braintree.*",
    ),
    "notification": ("notify*", "*.notify*", "*.emit"),
    "subprocess": ("subprocess.*", "os.system", "os.popen", "os.spawn*", "os.exec*"),
    "file": (
        "*.write", "*.writelines", "*.write_text", "*.write_bytes", "*.writerow", "*.writerows",
        "os.remove", "os.unlink", "os.rename", "os.replace", "shutil.*", "*.unlink", "*.rmdir",
        "*.upload_file", "*.put_object",
    ),
}  # fmt: skip
DEFAULT_EFFECT_CALLS = [pattern for patterns in EFFECT_CALLS.values() for pattern in patterns]

# Methods that write a batch of rows at once: a commit after them closes a chunk.
BULK_METHODS = ("bulk_save_objects", "bulk_insert_mappings", "bulk_update_mappings", "copy_from", "copy_expert")
# Words (of ``snake_case`` names) that say a loop iterates over chunks of the work.
DEFAULT_CHUNK_WORDS = ["chunk", "chunks", "chunked", "batch", "batches", "batched", "page", "pages", "paginate"]

# Iterables that never end on their own: ``iter(queue.get, None)``, ``itertools.count()``.
_ENDLESS_CALLS = ("count", "itertools.count", "cycle", "itertools.cycle")
_ENDLESS_METHODS = ("listen", "consume", "subscribe")
# In a while loop, a call that waits for something else to happen: the loop polls.
_WAITING_CALLS = ("time.sleep", "sleep", "asyncio.sleep", "gevent.sleep")


def unbounded_reason(loop: Loop, line_of: Callable[[cst.CSTNode], str]) -> str | None:
    """Why ``loop`` may run forever (the commit after it would never run), or None."""
    if isinstance(loop, cst.For):
        return _endless_iterable(loop, line_of)
    test = loop.test
    if _always_true(test):
        text = cst.Module([]).code_for_node(test)
        if any(isinstance(node, cst.Break) for node in walk(loop.body, skip_loops=True)):
            return f"while {text} only ends at a break (a sentinel): until then nothing would be committed"
        return f"while {text} may never end: the commit after it would never run"
    for node in walk(loop.body, skip_loops=True):
        if isinstance(node, cst.Call) and dotted_name(node.func) in _WAITING_CALLS:
            return (
                f"the loop polls ({dotted_name(node.func)}() at line {line_of(node)}) and may never end: "
                "the commit after it would never run"
            )
    event = _event_checked(test)
    if event is not None:  # only event.set() / event.clear() ends it, never a method of its owner
        changed = any(c.session_name == event and c.method in ("set", "clear") for c in method_calls(loop.body))
        names = set() if changed else {event}
    else:
        names = _condition_names(test)
        names = names if not _changes_any(loop.body, names) else set()
    if names:
        text = cst.Module([]).code_for_node(test)
        return (
            f"while {text}: the body does not change {', '.join(sorted(names))}, so the loop may only end "
            "when another thread or a signal says so, and a crash would lose everything since it started"
        )
    return None


def effect_reason(
    body: cst.CSTNode,
    patterns: Sequence[str],
    is_session: Callable[[cst.BaseExpression], bool],
    line_of: Callable[[cst.CSTNode], str],
) -> str | None:
    """Why a call in ``body`` has an effect outside the database session, or None."""
    for call in _calls(body):
        if isinstance(call.func, cst.Attribute) and is_session(call.func.value):
            continue
        name = dotted_name(call.func, through_calls=True)
        if name is None or not any(fnmatch.fnmatchcase(name, p) for p in patterns):
            continue
        kind = next((k for k, ps in EFFECT_CALLS.items() if any(fnmatch.fnmatchcase(name, p) for p in ps)), None)
        what = f"a {kind} call" if kind else "a call"
        return (
            f"{name}() at line {line_of(call)} is {what} with an effect outside the database: the per-item "
            "commit records each one, so a crash half-way would leave effects without their rows and a retry "
            "would repeat them"
        )
    return None


def chunk_reason(
    loop: Loop,
    words: Collection[str],
    is_session: Callable[[cst.BaseExpression], bool],
    line_of: Callable[[cst.CSTNode], str],
    *,
    by_name: bool = True,
) -> str | None:
    """Why the loop's commit closes a deliberate chunk of work, or None.

    ``by_name``: whether the loop's names count (a commit of this very body; a commit that left
    an inner loop over items was made per item, not per chunk)."""
    for call in method_calls(loop.body, BULK_METHODS):
        return _chunk_message(f"{call.session_name or 'a'}.{call.method}() at line {line_of(call.call)}")
    for call in method_calls(loop.body, ("execute",)):
        if is_session(call.session) and len(call.call.args) >= 2 and _many_rows(call.call.args[1], words):
            return _chunk_message(f"{call.session_name}.execute() of many rows at line {line_of(call.call)}")
    if by_name and isinstance(loop, cst.For):
        if _stepped_range(loop.iter):
            return _chunk_message(f"the loop steps over slices (line {line_of(loop)})")
        for name in (*_names_in(loop.target), *_names_in(loop.iter)):
            if any(word in words for word in name.lower().split("_")):
                return _chunk_message(f"the loop iterates over {name} (line {line_of(loop)})")
    return None


def _chunk_message(what: str) -> str:
    return f"the commit closes a chunk ({what}): one transaction per chunk is deliberate, merging them would make one unbounded transaction"


# -- the shapes ------------------------------------------------------------------------------


def _always_true(test: cst.BaseExpression) -> bool:
    if isinstance(test, cst.Name):
        return test.value == "True"
    if isinstance(test, (cst.Integer, cst.Float)):
        return float(test.value.replace("_", "")) != 0
    if isinstance(test, cst.SimpleString):
        return bool(test.evaluated_value)
    return False


def _endless_iterable(loop: cst.For, line_of: Callable[[cst.CSTNode], str]) -> str | None:
    iterable = loop.iter
    if not isinstance(iterable, cst.Call):
        return None
    name = dotted_name(iterable.func) or ""
    endless = (name == "iter" and len(iterable.args) == 2) or name in _ENDLESS_CALLS
    if name in ("repeat", "itertools.repeat") and len(iterable.args) == 1:
        endless = True
    if isinstance(iterable.func, cst.Attribute) and iterable.func.attr.value in _ENDLESS_METHODS:
        endless = True
    if not endless:
        return None
    return f"{name or 'the iterable'}() at line {line_of(loop)} may never end: the commit after the loop would never run"


def _event_checked(test: cst.BaseExpression) -> str | None:
    """``stop`` in ``while not stop.is_set()`` / ``while self._running.is_set()``."""
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        test = test.expression
    if isinstance(test, cst.Call) and isinstance(test.func, cst.Attribute) and test.func.attr.value == "is_set":
        return dotted_name(test.func.value)
    return None


def _condition_names(test: cst.BaseExpression) -> set[str]:
    """The names and attribute chains the condition depends on: ``stop`` in ``not stop.is_set()``,
    ``self.running``, ``rows`` in ``len(rows)`` (not ``len``)."""
    if isinstance(test, cst.Name):
        return set() if test.value in ("None", "True", "False") else {test.value}
    if isinstance(test, cst.Attribute):
        name = dotted_name(test)
        return {name} if name is not None else _condition_names(test.value)
    if isinstance(test, cst.Call):
        names = {n for arg in test.args for n in _condition_names(arg.value)}
        if isinstance(test.func, cst.Attribute):  # a method call asks its receiver
            names |= _condition_names(test.func.value)
        elif not isinstance(test.func, cst.Name):
            names |= _condition_names(test.func)
        return names
    return {n for child in children(test) for n in _condition_names(child)}  # type: ignore[arg-type]


def _changes_any(body: cst.CSTNode, names: set[str]) -> bool:
    """Whether ``body`` may change one of ``names``: assigns it, or calls a method on it or its owner."""
    roots = {n.split(".")[0] for n in names} | names
    owners = {n.rsplit(".", 1)[0] for n in names if "." in n}
    for bound, _ in bindings(body):
        if bound in names or any(n.startswith(bound + ".") for n in names):
            return True
    for call in method_calls(body):
        receiver = call.session_name
        if receiver in names or receiver in owners or (receiver in roots and "." not in receiver):
            return True
        if any(n.startswith(receiver + ".") for n in names if receiver):
            return True
    for node in walk(body):  # ``items[key] = x`` / ``del items[0]`` change ``items``
        if isinstance(node, (cst.Assign, cst.AugAssign, cst.Del)):
            targets = [t.target for t in node.targets] if isinstance(node, cst.Assign) else [node.target]
            for target in targets:
                if isinstance(target, cst.Subscript) and dotted_name(target.value) in names:
                    return True
    return False


def _many_rows(arg: cst.Arg, words: Collection[str]) -> bool:
    """The parameters of ``execute(statement, rows)`` are a list of rows: one statement, many rows."""
    value = arg.value
    if arg.keyword is not None:
        return False
    if isinstance(value, (cst.List, cst.ListComp)):
        return True
    if isinstance(value, cst.Subscript):
        return any(isinstance(e.slice, cst.Slice) for e in value.slice)
    return isinstance(value, cst.Name) and any(w in words for w in value.value.lower().split("_"))


def _stepped_range(iterable: cst.BaseExpression) -> bool:
    """``range(0, len(rows), size)``: the loop walks slices of a list."""
    return isinstance(iterable, cst.Call) and dotted_name(iterable.func) == "range" and len(iterable.args) == 3


def _names_in(node: cst.CSTNode) -> Iterator[str]:
    for n in walk(node):
        if isinstance(n, cst.Name):
            yield n.value
        elif isinstance(n, cst.Attribute):
            yield n.attr.value


def _calls(node: cst.CSTNode) -> Iterator[cst.Call]:
    for n in walk(node):
        if isinstance(n, cst.Call):
            yield n


def walk(node: cst.CSTNode, *, skip_loops: bool = False) -> Iterator[cst.CSTNode]:
    """Every node under ``node`` (itself included), not entering nested functions, classes, lambdas."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        for child in reversed(children(current)):
            if isinstance(child, NESTED_SCOPES):
                continue
            if skip_loops and isinstance(child, (cst.For, cst.While)):
                continue
            stack.append(child)
