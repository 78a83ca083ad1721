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
from libcst.metadata import MetadataWrapper

from codemods.analysis.names import Names
from codemods.analysis.paths import module_name
from codemods.analysis.precheck import SyntaxFacts
from codemods.options import CodeStyle, Option
from codemods import speedups
from codemods.speedups import imports, traversal
from codemods.speedups.positions import start_positions


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
    # The target project's line length and import order (its ruff/black/flake8/isort settings):
    # comments and docstrings a codemod writes stay within ``style.line_length``.
    style: CodeStyle = CodeStyle()

    @property
    def module_name(self) -> str:
        """The dotted module name the path would have if the scanned folder were on sys.path."""
        return module_name(self.path)

    @property
    def is_package_init(self) -> bool:
        return self.path.rsplit("/", 1)[-1] == "__init__.py"


@dataclasses.dataclass(frozen=True)
class GeneratedFile:
    """A file a codemod creates or rewrites outside the file it was run on."""

    path: str  # posix path relative to the scanned folder
    content: str
    # The files whose code goes into this one (their extras' paths).  When this file fails its
    # checks, only they fail; None means every file that gave the codemod extras.
    contributors: tuple[str, ...] | None = None


@dataclasses.dataclass
class FinalizeResult:
    files: list[GeneratedFile] = dataclasses.field(default_factory=list)
    findings: list[Finding] = dataclasses.field(default_factory=list)


class Codemod(cst.CSTTransformer):
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
    # A full run leaves the codemod out (its whole-tree pass included) when no file of the tree
    # contains one of these: what it acts on cannot exist there (pydantic-api: no file names
    # pydantic, so no class is a Pydantic model).  Empty: always run.
    tree_markers: ClassVar[tuple[bytes, ...]] = ()

    # True unless the class uses libcst's matcher decorators or the speed-ups are off: then
    # libcst's own hooks run.
    _plain: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # A plain transformer, not libcst's codemod framework, whose import (it brings
        # libcst.matchers) costs more than a small run's work.  A codemod using matcher
        # decorators also derives from libcst's MatcherDecoratableTransformer, whose hooks it keeps.
        decorated = _matcher_decorated(cls)
        if decorated is not None and not any(k.__name__ == "MatcherDecoratableTransformer" for k in cls.__mro__):
            raise TypeError(
                f"{cls.__name__}.{decorated} uses libcst's matcher decorators: "
                f"declare `class {cls.__name__}(Codemod, libcst.matchers.MatcherDecoratableTransformer)`"
            )
        cls._plain = speedups.ENABLED and decorated is None
        if cls._plain:
            traversal.install(cls, Codemod)

    def __init__(self, file: FileContext) -> None:
        super().__init__()
        # The import edits requested (add_import / remove_import), made after the transform.
        self.context = imports.EditContext(filename=file.path, full_module_name=file.module_name)
        self.file = file
        self.extras: list[Any] = []
        self._reports: list[tuple[cst.CSTNode, str, bool]] = []
        self._line_nodes: list[cst.CSTNode] = []  # the nodes whose lines line_mark wrote, by mark

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
        """The run's value of one of this codemod's options (its declared default when the
        context was built without it)."""
        if name in self.file.options:
            return self.file.options[name]
        for option in self.options:
            if option.name == name:
                return option.default
        raise KeyError(name)

    def render(self, template: str, /, **values: Any) -> str:
        """Render one of the run's templates (generated code is never spliced together by hand)."""
        if self.file.templates is None:
            raise RuntimeError(f"{self.name}: no templates in the FileContext (the pipeline always passes them)")
        return self.file.templates.render(template, **values)

    def report(self, original_node: cst.CSTNode, message: str, *, fixable: bool = True) -> None:
        """Record a finding at ``original_node``, a node of the tree this codemod was given."""
        self._reports.append((original_node, message, fixable))

    def line_mark(self, node: cst.CSTNode) -> str:
        """The line of ``node`` (a node of the tree this codemod was given), for a message:
        a mark that :func:`position_reports` replaces with the line ``PositionProvider`` gives,
        found by the code generation that positions the findings, so that an "at line N" costs
        no positions of every node (and nothing where the findings are never positioned)."""
        self._line_nodes.append(node)
        return f"{_LINE_MARK}{len(self._line_nodes) - 1}{_LINE_MARK_END}"

    def add_import(self, module: str, obj: str | None = None, asname: str | None = None) -> None:
        """Add ``from module import obj as asname`` (or ``import module``) unless it is there,
        as libcst's AddImportsVisitor does (codemods.speedups.imports)."""
        imports.add_needed_import(self.context, module, obj, asname)

    def remove_import(self, module: str, obj: str | None = None, asname: str | None = None) -> None:
        """Remove that import if nothing uses it any more, as libcst's RemoveImportsVisitor does."""
        imports.remove_unused_import(self.context, module, obj, asname)

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

    @classmethod
    def may_change_file(
        cls, facts: SyntaxFacts, options: Mapping[str, Any], *, path: str, source: bytes, index: Any
    ) -> bool:
        """The syntax pre-check of one file as the pipeline asks it, knowing the file's path,
        its text and the codemod's whole-tree index (``index`` is what :attr:`FileContext.index`
        would be): for a codemod whose pre-check needs these.  Same contract as :meth:`may_change`,
        which it defaults to.  The engine asks :meth:`may_change` alone where the index is not
        built yet (to decide whether it is needed)."""
        return cls.may_change(facts, options)

    @classmethod
    def precheck_summary(cls, facts: SyntaxFacts, options: Mapping[str, Any]) -> Any:
        """What :meth:`may_change_file` needs to know of ``facts``, as a small picklable value,
        so that the engine computes it while a file's CPython tree is at hand (the whole-tree
        pass) and the pipeline asks :meth:`may_change_summary` without parsing the file again.

        False exactly when :meth:`may_change` is False; None when the check needs the facts
        themselves (the default for a codemod with its own :meth:`may_change_file`, which must
        override both methods to be summarised)."""
        if not cls.may_change(facts, options):
            return False
        return True if cls.may_change_file.__func__ is Codemod.may_change_file.__func__ else None  # type: ignore[attr-defined]

    @classmethod
    def may_change_summary(
        cls, summary: Any, options: Mapping[str, Any], *, path: str, source: bytes, index: Any
    ) -> bool:
        """:meth:`may_change_file`'s answer from :meth:`precheck_summary`'s (neither False nor
        None) for the same file."""
        return bool(summary)

    def run(self, tree: cst.Module, wrapper: MetadataWrapper | None = None) -> tuple[cst.Module, list[Finding]]:
        """Rewrite ``tree``; return the new tree and the findings, positioned in ``tree``.

        ``wrapper`` (a MetadataWrapper of ``tree`` itself) lets codemods run one after another
        over an unchanged tree share the metadata already computed (scopes, qualified names,
        positions), instead of each computing it again.
        """
        new_tree = self.rewrite(tree, wrapper)
        return new_tree, self.findings_in(tree)

    def rewrite(self, tree: cst.Module, wrapper: MetadataWrapper | None = None) -> cst.Module:
        """:meth:`run` without positioning the findings: :attr:`reports` holds them, for
        :meth:`findings_in` or :func:`position_reports` (which positions the reports of several
        codemods over one tree in one code generation)."""
        if wrapper is None or wrapper.module is not tree:
            wrapper = MetadataWrapper(tree, unsafe_skip_copy=True)
        # Scopes are computed only if a question needs them, and kept in the shared wrapper.
        self.names = Names(self.file.source, wrapper, exact=not self.file.shortcuts)
        new_tree = wrapper.visit(self)
        return self._apply_import_edits(new_tree)

    @property
    def reports(self) -> list[tuple[cst.CSTNode, str, bool]]:
        """What :meth:`report` recorded: (node of the tree given, message, fixable)."""
        return self._reports

    def findings_in(self, tree: cst.Module) -> list[Finding]:
        """The findings reported, positioned in ``tree`` (the tree :meth:`rewrite` was given)."""
        return position_reports(tree, [self])

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
        if scratch.get(imports.ADD):
            tree = imports.add_imports(self.context, tree)
        if scratch.get(imports.REMOVE):
            tree = imports.remove_unused_imports(tree, self.context, shortcuts=self.file.shortcuts)
        return tree

# The attributes libcst's matcher decorators (@m.visit, @m.leave, @m.call_if_inside,
# @m.call_if_not_inside) set on a method (tests/engine/test_imports.py checks them).
_MATCHER_DECORATOR_ATTRIBUTES = ("_visit_matcher", "_leave_matcher", "_call_if_inside_matcher", "_call_if_not_inside_matcher")


def _matcher_decorated(cls: type) -> str | None:
    """The name of a method of ``cls`` (or a base outside libcst) with a matcher decorator."""
    for klass in cls.__mro__:
        if klass.__module__.split(".")[0] == "libcst":
            continue
        for name, value in vars(klass).items():
            function = getattr(value, "__func__", value)
            if any(getattr(function, attribute, None) for attribute in _MATCHER_DECORATOR_ATTRIBUTES):
                return name
    return None


def position_reports(tree: cst.Module, codemods: Sequence[Codemod]) -> list[Finding]:
    """The findings ``codemods`` reported over ``tree``, in their order, positioned in ``tree``
    by one code generation for all of them (which also finds the lines their messages name
    through :meth:`Codemod.line_mark`)."""
    nodes = [node for codemod in codemods for node, _, _ in codemod.reports]
    if not nodes:
        return []
    positions = start_positions(tree, [*nodes, *(node for codemod in codemods for node in codemod._line_nodes)])
    return [
        Finding(
            codemod.file.path,
            positions[node].line,
            positions[node].column + 1,
            codemod.name,
            _with_lines(message, codemod._line_nodes, positions) if codemod._line_nodes else message,
            fixable,
        )
        for codemod in codemods
        for node, message, fixable in codemod.reports
    ]


# Code CPython accepts holds no NUL character, so no name or snippet in a message looks like a mark.
_LINE_MARK, _LINE_MARK_END = "\0line ", "\0"
_LINE_MARKS = re.compile("\0line ([0-9]+)\0")


def _with_lines(message: str, line_nodes: Sequence[cst.CSTNode], positions: Mapping[cst.CSTNode, Any]) -> str:
    return _LINE_MARKS.sub(lambda mark: str(positions[line_nodes[int(mark[1])]].line), message)
