"""Where a program talks to its user: command-line programs and commands, prompts, migrations.

print-to-logging leaves these prints alone: they are the program's interface, not diagnostics.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import libcst as cst

from codemods.analysis.nodes import NESTED_SCOPES, dotted_name, is_name
from codemods.speedups import traversal
from codemods.speedups.walk import children, walk

SCRIPT_FOLDERS = ("scripts", "bin", "tools")
# Decorators that make a function a command: ``@app.cli.command()``, ``@bp.cli.command``,
# ``@click.command()``, ``@cli.group()``, ``@typer_app.command()``, ``@user_cli.command("create")``
# (an AppGroup), and the option decorators only commands carry.
_COMMAND_DECORATORS = ("command", "group", "callback", "result_callback")
_COMMAND_ONLY_DECORATORS = ("option", "argument", "pass_context", "pass_obj", "with_appcontext", "confirmation_option")
# Django's management command classes; their methods write the command's output.
_COMMAND_BASES = ("BaseCommand", "LabelCommand", "AppCommand")
# Calls that ask the user something: the prints right before them are the question.
_PROMPT_CALLS = ("input", "raw_input", "getpass", "getpass.getpass")
_PROMPT_METHODS = ("confirm", "prompt", "ask")
_CLI_MODULES = {"argparse", "optparse", "click", "typer", "docopt", "fire"}
_MIGRATION_MARKERS = re.compile(rb"^down_revision\s*[:=]|^\s*class Migration\(", re.MULTILINE)


def path_reason(path: str, source: bytes) -> str | None:
    """Why the file at ``path`` is the program's interface (or a migration), from its path."""
    parts = path.split("/")
    folders, name = parts[:-1], parts[-1]
    if "migrations" in folders or ("versions" in folders and _MIGRATION_MARKERS.search(source)):
        return "a database migration; migrations are history and are never edited"
    if name == "manage.py":
        return "manage.py is a command-line program: its prints are its output"
    if name == "__main__.py":
        return "__main__.py is a command-line program: its prints are its output"
    folder = next((f for f in folders if f in SCRIPT_FOLDERS), None)
    if folder is not None:
        return f"a script under {folder}/: its prints are its output"
    return None


def program_reason(module: cst.Module, source: bytes) -> str | None:
    """Why the module is a command-line program (a ``__main__`` guard, a parser import, ``sys.argv``)."""
    if not _may_be_command_line(source):
        return None
    facts = _ModuleFacts()
    walk(module, facts)
    return facts.reason()


def all_print_calls(module: cst.Module) -> Iterator[cst.Call]:
    """Every ``print(...)`` call of the module, nested scopes included, in source order."""
    stack: list[cst.CSTNode] = [module]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.Call) and is_name(node.func, "print"):
            yield node
        stack.extend(reversed(children(node)))


def command_reasons(
    module: cst.Module, qualified: Callable[[cst.CSTNode], set[str]], source: bytes = b""
) -> dict[int, str]:
    """id(print call) -> why it is command output or a prompt, for prints in command functions,
    Django management commands and prints right before a prompt.  ``source``, the text of
    ``module``, spares the visit of every expression when no ``add_command`` occurs in it."""
    finder = _Interfaces(qualified, registers=not source or b"add_command" in source)
    walk(module, finder)
    registered = finder.registered
    reasons = dict(finder.reasons)
    for function, reason in finder.candidates:
        if reason is None and function.name.value in registered:
            reason = f"{function.name.value}() is a command (registered with add_command): its prints are its output"
        if reason is not None:
            for call in _print_calls(function.body):
                reasons.setdefault(id(call), reason)
    return reasons


class _Interfaces(traversal.Visitor):
    """Functions and classes that are commands, prompts, ``add_command`` registrations.

    Without ``registers`` (no ``add_command`` in the text) the simple statements and expressions
    are not entered: what else it looks for is a compound statement or a block, which no
    expression or simple statement contains."""

    def __init__(self, qualified: Callable[[cst.CSTNode], set[str]], *, registers: bool = True) -> None:
        self.qualified = qualified
        self.registers = registers
        self.reasons: dict[int, str] = {}
        self.candidates: list[tuple[cst.FunctionDef, str | None]] = []
        self.registered: set[str] = set()
        self._command_class: list[str | None] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, cst.ClassDef):
            base = next((b for b in node.bases if _last(b.value) in _COMMAND_BASES), None)
            self._command_class.append(node.name.value if base is not None else None)
        elif isinstance(node, cst.FunctionDef):
            self.candidates.append((node, self._function_reason(node)))
        elif isinstance(node, (cst.IndentedBlock, cst.Module)):
            self._prompts(node.body)
        elif isinstance(node, cst.Call) and _last(node.func) == "add_command":
            self.registered |= {a.value.value for a in node.args if isinstance(a.value, cst.Name)}
        elif not self.registers and isinstance(node, _WITHOUT_BLOCKS):
            return False
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        if isinstance(original_node, cst.ClassDef):
            self._command_class.pop()

    def _function_reason(self, function: cst.FunctionDef) -> str | None:
        name = function.name.value
        if self._command_class and self._command_class[-1] is not None:
            owner = self._command_class[-1]
            return f"{owner}.{name}() is a Django management command: its prints are its output"
        for decorator in function.decorators:
            expr = decorator.decorator.func if isinstance(decorator.decorator, cst.Call) else decorator.decorator
            last = _last(expr)
            qualified = self.qualified(expr)
            if last in _COMMAND_DECORATORS or last in _COMMAND_ONLY_DECORATORS or any(
                q.split(".")[0] in ("click", "typer") for q in qualified
            ):
                shown = dotted_name(expr) or last
                return f"{name}() is a command-line command (@{shown}): its prints are its output"
        return None

    def _prompts(self, statements: tuple[cst.BaseStatement, ...] | list[cst.BaseStatement]) -> None:
        """Prints right before a statement that asks the user (``input()``, ``click.confirm()``)."""
        pending: list[cst.Call] = []
        for statement in statements:
            call = _print_statement(statement)
            if call is not None:
                pending.append(call)
                continue
            if pending and _asks_user(statement):
                for printed in pending:
                    self.reasons[id(printed)] = "it prompts the user (the input that follows needs it on screen)"
            pending = []


_WITHOUT_BLOCKS = (cst.SimpleStatementLine, cst.SimpleStatementSuite, cst.BaseExpression)


def _print_statement(statement: cst.CSTNode) -> cst.Call | None:
    if isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1:
        small = statement.body[0]
        if isinstance(small, cst.Expr) and isinstance(small.value, cst.Call) and dotted_name(small.value.func) == "print":
            return small.value
    return None


def _asks_user(statement: cst.CSTNode) -> bool:
    for node in _walk(statement):
        if isinstance(node, cst.Call):
            name = dotted_name(node.func) or ""
            if name in _PROMPT_CALLS or name.rsplit(".", 1)[-1] in _PROMPT_METHODS and "." in name:
                return True
    return False


def _print_calls(node: cst.CSTNode) -> Iterator[cst.Call]:
    for n in _walk(node):
        if isinstance(n, cst.Call) and dotted_name(n.func) == "print":
            yield n


def _last(expr: cst.CSTNode) -> str:
    name = dotted_name(expr, through_calls=True)
    return name.rsplit(".", 1)[-1] if name else ""


def _walk(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(c for c in reversed(children(current)) if not isinstance(c, NESTED_SCOPES))


def _may_be_command_line(source: bytes) -> bool:
    """False only when the text rules out every sign _ModuleFacts looks for (no source: unknown)."""
    if not source:
        return True
    return b"__main__" in source or b"argv" in source or any(name.encode() in source for name in _CLI_MODULES)


class _ModuleFacts(traversal.Visitor):
    """What makes a module a command-line program."""

    def __init__(self) -> None:
        self.main_guard = False
        self.cli_import = False
        self.uses_argv = False

    def reason(self) -> str | None:
        if self.main_guard:
            return 'a command-line program (if __name__ == "__main__"): its prints are its output'
        if self.cli_import:
            return "a command-line program (it imports a command-line parser): its prints are its output"
        if self.uses_argv:
            return "a command-line program (it reads sys.argv): its prints are its output"
        return None

    def visit_Comparison(self, node: cst.Comparison) -> None:
        operands = [node.left, *(target.comparator for target in node.comparisons)]
        has_name = any(is_name(o, "__name__") for o in operands)
        has_main = any(isinstance(o, cst.SimpleString) and o.evaluated_value == "__main__" for o in operands)
        if has_name and has_main:
            self.main_guard = True

    def visit_Import(self, node: cst.Import) -> None:
        if any(alias.evaluated_name.split(".")[0] in _CLI_MODULES for alias in node.names):
            self.cli_import = True

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if node.relative or node.module is None:
            return
        if cst.helpers.get_full_name_for_node(node.module).split(".")[0] in _CLI_MODULES:
            self.cli_import = True

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if isinstance(node, cst.Attribute) and is_name(node.value, "sys") and node.attr.value == "argv":
            self.uses_argv = True
