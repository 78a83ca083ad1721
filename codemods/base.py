"""The contract every codemod follows, and the small value types it reports with.

A codemod is one class: metadata as class attributes, a docstring with the sections
What it does / Why is this bad? / Example / Fix safety / Limitations, and libcst
``leave_*`` methods that rewrite one file's tree.  It never touches the file system,
git or the CLI: the engine gives it a parsed tree and a :class:`FileContext`, and takes
back a new tree, its :class:`Finding` list and any :attr:`Codemod.extras` (requests for
other files, such as generated service functions, which the engine hands to
:meth:`Codemod.finalize` once every file has been seen).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, Protocol

import libcst as cst
from libcst.codemod import Codemod as LibcstCodemod
from libcst.codemod import CodemodContext, ContextAwareTransformer
from libcst.codemod.visitors import AddImportsVisitor, RemoveImportsVisitor
from libcst.codemod.visitors._add_imports import _skip_first
from libcst.matchers import _decorators as matcher_decorators
from libcst.metadata import MetadataWrapper

from codemods.speedups import traversal
from codemods.analysis.names import Names, name_facts
from codemods.options import Option
from codemods.speedups.positions import positions_of
from codemods.analysis.precheck import SyntaxFacts


class Templates(Protocol):
    """What a codemod renders generated code with (the engine passes its jinja2 template set)."""

    def render(self, name: str, /, **values: Any) -> str: ...


@dataclasses.dataclass(frozen=True, order=True)
class Finding:
    """One location a codemod fixed, or looked at and declined to fix (``fixable=False``)."""

    path: str
    line: int
    column: int
    codemod: str
    message: str
    fixable: bool

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class FileContext:
    """What a codemod knows about the file it is rewriting."""

    path: str  # posix path relative to the scanned folder
    options: Mapping[str, Any]  # this codemod's settings, validated, defaults filled in
    index: Any = None  # this codemod's whole-tree index (see Codemod.build_index)
    templates: Templates | None = None  # always given by the engine's pipeline
    # The text of the tree the codemod is given (empty when unknown), for cheap text checks and
    # name facts that spare a tree walk or a scope analysis.
    source: bytes = b""
    # False runs the exact path only: no syntax pre-check, no name facts (see codemods.analysis.names);
    # the tests compare both paths.
    shortcuts: bool = True

    @property
    def module_name(self) -> str:
        """The dotted module name the path would have if the scanned folder were on sys.path."""
        parts = self.path[: -len(".py")].split("/") if self.path.endswith(".py") else self.path.split("/")
        if parts and parts[-1] == "__init__":
            parts = parts[:-1]
        return ".".join(parts)

    @property
    def is_package_init(self) -> bool:
        return self.path.rsplit("/", 1)[-1] == "__init__.py"


@dataclasses.dataclass(frozen=True)
class GeneratedFile:
    """A file a codemod creates or rewrites outside the file it was run on."""

    path: str  # posix path relative to the scanned folder
    content: str


@dataclasses.dataclass
class FinalizeResult:
    files: list[GeneratedFile] = dataclasses.field(default_factory=list)
    findings: list[Finding] = dataclasses.field(default_factory=list)


def transform_module(transformer: LibcstCodemod, tree: cst.Module) -> cst.Module:
    """``transformer.transform_module(tree)``, without copying the tree when that buys nothing.

    libcst deep-copies the tree before every transform so that metadata, keyed by node identity,
    cannot be confused by a node that occurs twice.  A transformer without metadata (such as
    AddImportsVisitor) cannot be confused, and the copy costs about as much as the transform.
    """
    if transformer.get_inherited_dependencies():
        return transformer.transform_module(tree)
    wrapper = MetadataWrapper(tree, unsafe_skip_copy=True)
    previous = transformer.context
    transformer.context = dataclasses.replace(previous, wrapper=wrapper)
    try:
        return transformer.transform_module_impl(tree)
    finally:
        transformer.context = previous


def add_imports(context: CodemodContext, tree: cst.Module) -> cst.Module:
    """What ``AddImportsVisitor(context).transform_module(tree)`` returns, for a fraction of the cost.

    AddImportsVisitor reads and changes only the top of a module: the docstring (or
    ``__strict__`` flag), the block of imports after it, and the first statement below that
    block (which may get a blank line).  Yet it traverses the whole tree, through libcst's
    matcher machinery, which costs more than parsing the file.  So it is given the top alone,
    and the rest of the body is put back after the result.
    """
    end = 1 if _skip_first(tree) else 0
    while end < len(tree.body) and _is_import_line(tree.body[end]):
        end += 1
    if end + 1 >= len(tree.body):
        return transform_module(AddImportsVisitor(context), tree)
    top = transform_module(AddImportsVisitor(context), tree.with_changes(body=tree.body[: end + 1]))
    return top.with_changes(body=(*top.body, *tree.body[end + 1 :]))


def remove_unused_imports(tree: cst.Module, context: CodemodContext, *, shortcuts: bool = True) -> cst.Module:
    """What ``RemoveImportsVisitor(context).transform_module(tree)`` returns, usually cheaper.

    libcst's visitor copies the whole module and analyses every scope of it to see which of
    the requested imports nothing uses any more.  Two cases are clear from the text: a name
    bound only by its import and read somewhere is used (its import stays), and a name that
    occurs nowhere but in the top-level import lines (not even in a string or comment) is
    unused; each import line binding such a name is given to the visitor on its own, where it
    is just as unused, and the result is put back in its place.  Anything else (or
    ``shortcuts=False``): the visitor over the whole module.
    """
    fast = _remove_unused_imports_from_text(tree, context) if shortcuts else None
    return fast if fast is not None else RemoveImportsVisitor(context).transform_module(tree)


_IDENTIFIER = re.compile(r"(?<![\w.])[^\W\d]\w*")


def _remove_unused_imports_from_text(tree: cst.Module, context: CodemodContext) -> cst.Module | None:
    requests = list(context.scratch.get(RemoveImportsVisitor.CONTEXT_KEY, ()))
    names: dict[str, list[tuple[str, str | None, str | None]]] = {}
    for module, obj, asname in requests:
        if obj is None and asname is None and "." in module:
            return None  # ``import a.b``: which name it binds for the visitor is its business
        names.setdefault(asname or obj or module, []).append((module, obj, asname))
    code = tree.code
    facts = name_facts(code.encode(tree.encoding))
    if facts is None:
        return None
    lines = [i for i, s in enumerate(tree.body) if _is_import_line(s, every=True)]
    line_code = {i: tree.code_for_node(tree.body[i]) for i in lines}
    everywhere = _IDENTIFIER.findall(code)
    outside = {name: everywhere.count(name) for name in names}
    for text in line_code.values():
        for word in _IDENTIFIER.findall(text):
            if word in outside:
                outside[word] -= 1
    unused = {name for name in names if outside[name] == 0}
    used = {name for name in names.keys() - unused if facts.bindings[name] == 1 and facts.loads[name]}
    if names.keys() - unused - used:
        return None
    binding = [i for i in lines if unused & set(_IDENTIFIER.findall(line_code[i]))]
    if unused and not binding:
        return None  # the imports to remove are not top-level import lines
    narrowed = CodemodContext(
        filename=context.filename, full_module_name=context.full_module_name, full_package_name=context.full_package_name
    )
    for name in unused:
        for module, obj, asname in names[name]:
            RemoveImportsVisitor.remove_unused_import(narrowed, module, obj, asname)
    body = list(tree.body)
    for index in reversed(binding):
        alone = RemoveImportsVisitor(narrowed).transform_module(cst.Module(body=[body[index]]))
        body[index : index + 1] = list(alone.body)
    return tree.with_changes(body=body)


def _is_import_line(statement: cst.BaseStatement, *, every: bool = False) -> bool:
    """A statement line of one import (or, with ``every``, of nothing but imports)."""
    if every:
        return isinstance(statement, cst.SimpleStatementLine) and all(
            isinstance(small, (cst.Import, cst.ImportFrom)) for small in statement.body
        )
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and isinstance(statement.body[0], (cst.Import, cst.ImportFrom))
    )


_MATCHER_DECORATOR_ATTRIBUTES = (
    matcher_decorators.CONSTRUCTED_VISIT_MATCHER_ATTR,
    matcher_decorators.CONSTRUCTED_LEAVE_MATCHER_ATTR,
    matcher_decorators.VISIT_POSITIVE_MATCHER_ATTR,
    matcher_decorators.VISIT_NEGATIVE_MATCHER_ATTR,
)


def _uses_matcher_decorators(cls: type) -> bool:
    for klass in cls.__mro__:
        if klass.__module__.split(".")[0] == "libcst":
            continue
        for value in vars(klass).values():
            function = getattr(value, "__func__", value)
            if any(getattr(function, attribute, None) for attribute in _MATCHER_DECORATOR_ATTRIBUTES):
                return True
    return False


def _has_matcher_decorators(cls: type) -> bool:
    """Like _uses_matcher_decorators, libcst's own classes included (for libcst's visitors),
    but not its typed stubs: about 1,600 do-nothing methods that are never decorated."""
    for klass in cls.__mro__:
        if klass.__module__ == "libcst._typed_visitor":
            continue
        for value in vars(klass).values():
            function = getattr(value, "__func__", value)
            if any(getattr(function, attribute, None) for attribute in _MATCHER_DECORATOR_ATTRIBUTES):
                return True
    return False


def _skip_matcher_scans_of_undecorated_classes() -> None:
    """Make constructing libcst's AddImportsVisitor, RemoveImportsVisitor & co. cheap.

    Every new matcher-decoratable visitor runs three scans over every attribute of its class
    (hundreds of ``visit_*`` methods, with typing introspection) looking for matcher decorators:
    about 15 ms per instance, more than the import edit itself on most files, and the import
    visitors are built once per edited file.  A class without any decorated method always gets
    empty results, so those are returned at once (decided once per class).  The functions keep
    their names and signatures; only this shortcut is added.
    """
    from libcst.matchers import _visitors

    undecorated: dict[type, bool] = {}

    def shortcut(scan: Callable[[object], Any]) -> Callable[[object], Any]:
        def scan_unless_undecorated(obj: object) -> Any:
            cls = type(obj)
            if cls not in undecorated:
                undecorated[cls] = not _has_matcher_decorators(cls)
            return {} if undecorated[cls] else scan(obj)

        scan_unless_undecorated.__wrapped__ = scan  # type: ignore[attr-defined]
        return scan_unless_undecorated

    for name in ("_gather_matchers", "_gather_constructed_visit_funcs", "_gather_constructed_leave_funcs"):
        scan = getattr(_visitors, name, None)
        if callable(scan) and not hasattr(scan, "__wrapped__"):
            setattr(_visitors, name, shortcut(scan))


_skip_matcher_scans_of_undecorated_classes()


def _plain_hooks_for_libcsts_import_visitors() -> None:
    """Let AddImportsVisitor, RemoveImportsVisitor and the gatherers they run traverse cheaply.

    They derive from libcst's matcher-decoratable classes but have no matcher decorator, so on
    every node the matcher bookkeeping finds nothing to do and then dispatches as a plain
    visitor does, at about twice the cost.  Such classes get the fast plain hooks of
    :mod:`codemods.speedups.traversal`, which call the same methods in the same order.  A class with a
    matcher decorator keeps libcst's hooks.
    """
    import libcst.codemod.visitors  # noqa: F401 - defines the classes
    from libcst.matchers import MatcherDecoratableTransformer, MatcherDecoratableVisitor

    for base in (MatcherDecoratableTransformer, MatcherDecoratableVisitor):
        pending = list(base.__subclasses__())
        while pending:
            cls = pending.pop()
            pending.extend(cls.__subclasses__())
            if cls.__module__.startswith("libcst.codemod.visitors.") and not _has_matcher_decorators(cls):
                traversal.install(cls, base)


_plain_hooks_for_libcsts_import_visitors()


class Codemod(ContextAwareTransformer):
    """Base class of every codemod.  Subclasses set the metadata below and override ``leave_*``."""

    name: ClassVar[str]
    summary: ClassVar[str]
    safety: ClassVar[str]
    # The file is parsed for this codemod only if its bytes contain one of these.
    markers: ClassVar[tuple[bytes, ...]]
    options: ClassVar[tuple[Option, ...]] = ()
    # False for a codemod that only reports (its findings are never fixable): git mode makes no
    # branch for it, and the reports call its findings "to fix by hand" rather than "declined".
    fixes: ClassVar[bool] = True
    # Files containing one of these take part in the whole-tree pass (see build_index).
    index_markers: ClassVar[tuple[bytes, ...]] = ()

    # True unless the class uses libcst's matcher decorators (@m.visit, @m.call_if_inside, ...).
    _plain: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._plain = not _uses_matcher_decorators(cls)
        if cls._plain:  # skip even the check below, unless the class has its own hooks
            traversal.install(cls, Codemod)

    def __init__(self, file: FileContext) -> None:
        context = CodemodContext(filename=file.path, full_module_name=file.module_name)
        if self._plain:
            # ContextAwareTransformer.__init__ without the matcher machinery, which scans every
            # method of the class (hundreds) on each new instance for decorators it does not use.
            LibcstCodemod.__init__(self, context)
            cst.CSTTransformer.__init__(self)
            self._extra_visit_funcs, self._extra_leave_funcs, self._matchers = {}, {}, {}
        else:
            super().__init__(context)
        self.file = file
        self.extras: list[Any] = []
        self._reports: list[tuple[cst.CSTNode, str, bool]] = []

    # The matcher machinery costs several times a plain traversal on every node; a codemod without
    # matcher decorators visits like a plain CSTTransformer.
    def on_visit(self, node: cst.CSTNode) -> bool:
        return traversal.visit(self, node) if self._plain else super().on_visit(node)

    def on_leave(self, original_node: Any, updated_node: Any) -> Any:
        if self._plain:
            return traversal.leave_transformed(self, original_node, updated_node)
        return super().on_leave(original_node, updated_node)

    def on_visit_attribute(self, node: cst.CSTNode, attribute: str) -> None:
        if self._plain:
            return cst.CSTTransformer.on_visit_attribute(self, node, attribute)
        return super().on_visit_attribute(node, attribute)

    def on_leave_attribute(self, original_node: cst.CSTNode, attribute: str) -> None:
        if self._plain:
            return cst.CSTTransformer.on_leave_attribute(self, original_node, attribute)
        return super().on_leave_attribute(original_node, attribute)

    # -- what subclasses call -------------------------------------------------------------

    def option(self, name: str) -> Any:
        return self.file.options[name]

    def render(self, template: str, /, **values: Any) -> str:
        """Render one of the run's templates (generated code is never spliced together by hand)."""
        if self.file.templates is None:
            raise RuntimeError(f"{self.name}: no templates in the FileContext (the pipeline always passes them)")
        return self.file.templates.render(template, **values)

    def report(self, original_node: cst.CSTNode, message: str, *, fixable: bool = True) -> None:
        """Record a finding at ``original_node``, a node of the tree this codemod was given."""
        self._reports.append((original_node, message, fixable))

    def add_import(self, module: str, obj: str | None = None, asname: str | None = None) -> None:
        AddImportsVisitor.add_needed_import(self.context, module, obj, asname)

    def remove_import(self, module: str, obj: str | None = None, asname: str | None = None) -> None:
        RemoveImportsVisitor.remove_unused_import(self.context, module, obj, asname)

    # -- what the engine calls ------------------------------------------------------------

    @classmethod
    def applies_to(cls, source: bytes) -> bool:
        """The cheap pre-filter: can this codemod possibly change or report anything here?"""
        return any(marker in source for marker in cls.markers)

    @classmethod
    def may_change(cls, facts: SyntaxFacts, options: Mapping[str, Any]) -> bool:
        """The syntax pre-check, after ``applies_to``: False only if this codemod can neither
        change nor report anything in a file with these facts (see :mod:`codemods.analysis.precheck`).

        It must never be False where the codemod would act: the codemod tests run every case
        with and without it.  The default, True, always runs the codemod.
        """
        return True

    def run(self, tree: cst.Module, wrapper: MetadataWrapper | None = None) -> tuple[cst.Module, list[Finding]]:
        """Rewrite ``tree``; return the new tree and the findings, positioned in ``tree``.

        ``wrapper`` (a MetadataWrapper of ``tree`` itself) lets codemods run one after another
        over an unchanged tree share the metadata already computed (scopes, qualified names,
        positions), instead of each computing it again.
        """
        if wrapper is None or wrapper.module is not tree:
            wrapper = MetadataWrapper(tree, unsafe_skip_copy=True)
        # Scopes are computed only if a question needs them, and kept in the shared wrapper.
        self.names = Names(self.file.source, wrapper, exact=not self.file.shortcuts)
        new_tree = wrapper.visit(self)
        new_tree = self._apply_import_edits(new_tree)
        return new_tree, self._positioned_findings(wrapper)

    @classmethod
    def index_file(cls, path: str, source: bytes) -> Any:
        """Facts about one file for the whole-tree pass; only called when ``index_markers`` match."""
        return None

    @classmethod
    def build_index(cls, facts: Mapping[str, Any], options: Mapping[str, Any]) -> Any:
        """Combine every file's facts into the index each FileContext carries."""
        return None

    @classmethod
    def finalize(
        cls,
        extras: Sequence[tuple[str, Any]],
        read_file: Callable[[str], str | None],
        options: Mapping[str, Any],
        templates: Templates,
    ) -> FinalizeResult:
        """Turn the extras every file produced into generated files (for example service modules).

        ``read_file(path)`` gives the current text of a file under the scanned folder (with the
        changes of this run applied), or None if it does not exist.
        """
        return FinalizeResult()

    @classmethod
    def documentation(cls) -> str:
        import inspect

        return inspect.cleandoc(cls.__doc__ or "")

    # -- internals --------------------------------------------------------------------------

    def _apply_import_edits(self, tree: cst.Module) -> cst.Module:
        scratch = self.context.scratch
        if scratch.get(AddImportsVisitor.CONTEXT_KEY):
            tree = add_imports(self.context, tree)
        if scratch.get(RemoveImportsVisitor.CONTEXT_KEY):
            tree = remove_unused_imports(tree, self.context, shortcuts=self.file.shortcuts)
        return tree

    def _positioned_findings(self, wrapper: MetadataWrapper) -> list[Finding]:
        if not self._reports:
            return []
        positions = positions_of(wrapper.module).starts(node for node, _, _ in self._reports)
        findings = []
        for node, message, fixable in self._reports:
            start = positions[node]
            findings.append(Finding(self.file.path, start.line, start.column + 1, self.name, message, fixable))
        return findings
