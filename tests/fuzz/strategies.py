"""Hypothesis strategies that write Python programs containing the audited patterns.

Every strategy here produces source text that CPython compiles: loops that commit a
session, Flask and FastAPI routes that commit, ``print`` calls of every argument shape, bare
``except:`` handlers in every position, and Pydantic v1 models with ``class Config``.  The
fragments are placed at module level, in classes, in functions, in application factories,
and mixed in one file, in the indentation style and line endings real projects use.

Code is built as :class:`Lines` (indent level, text) so that a fragment can be nested in any
block and rendered with four spaces, two spaces or tabs.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterable

import hypothesmith
import libcst as cst
from hypothesis import strategies as st

Line = tuple[int, str]  # (indent level, text without indentation; "" for a blank line)


@dataclasses.dataclass(frozen=True)
class Context:
    """What the code being drawn may contain where it is placed."""

    in_function: bool = False
    in_async: bool = False
    in_loop: bool = False
    in_class: bool = False


MODULE = Context()


def nest(lines: Iterable[Line], by: int = 1) -> list[Line]:
    return [(level + by, text) if text else (0, "") for level, text in lines]


def block(header: str, body: Iterable[Line]) -> list[Line]:
    body = list(body)
    return [(0, header), *nest(body or [(0, "pass")])]


def render(lines: Iterable[Line], unit: str = "    ", newline: str = "\n") -> str:
    text = newline.join(unit * level + content if content else "" for level, content in lines)
    return text + newline


def compiles(source: str) -> bool:
    try:
        compile(source, "<fuzz>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return False
    return True


def parses_with_libcst(source: str) -> bool:
    try:
        cst.parse_module(source)
    except Exception:  # noqa: BLE001 - any libcst failure means "not usable as input"
        return False
    return True


# -- small pieces -------------------------------------------------------------------------------

ITEM = st.sampled_from(["item", "row", "user", "order", "record", "entry", "obj"])
FUNCTION_NAME = st.sampled_from(
    ["process", "sync_users", "import_rows", "handle", "run_job", "update_all", "save_items", "_work", "main"]
)
TRAILING_COMMENT = st.sampled_from(["", "", "", "  # noqa", "  # commit each one", "  # type: ignore", "  # TODO: batch"])
COMMENT_LINE = st.sampled_from(["# keep going", "# see ticket 42", "# pragma: no cover", "#", "# noqa: E722"])


@st.composite
def maybe_comment_line(draw: st.DrawFn) -> list[Line]:
    return [(0, draw(COMMENT_LINE))] if draw(st.integers(0, 5)) == 0 else []


# -- session commits in loops --------------------------------------------------------------------


SESSIONS = ["db.session", "session", "db", "self.session", "self.db", "s", "db_session", "conn"]


@st.composite
def session_setup(draw: st.DrawFn, is_async: bool) -> tuple[str, list[Line], str | None]:
    """(session expression, lines before the loop, ``with`` header wrapping the loop or None)."""
    name = draw(st.sampled_from(SESSIONS))
    if name == "s":
        factory = draw(st.sampled_from(["Session(engine)", "SessionLocal()", "sessionmaker(bind=engine)()"]))
        if is_async and draw(st.booleans()):
            return "s", [], f"async with {draw(st.sampled_from(['AsyncSessionLocal()', 'AsyncSession(engine)']))} as s:"
        if draw(st.booleans()):
            return "s", [], f"with {factory} as s:"
        return "s", [(0, f"s = {factory}")], None
    if name == "db_session":
        return name, [(0, "db_session = scoped_session(SessionLocal)")], None
    if name == "conn":  # a DB-API connection: not a session, must be left alone
        return name, [(0, 'conn = sqlite3.connect("app.db")')], None
    return name, [], None


@st.composite
def loop_body_statement(draw: st.DrawFn, session: str, item: str, context: Context) -> list[Line]:
    awaiting = "await " if context.in_async and draw(st.booleans()) else ""
    choices: list[list[Line]] = [
        [(0, f"{session}.add({item}){draw(TRAILING_COMMENT)}")],
        [(0, f"{item}.processed = True")],
        [(0, f"{awaiting}{session}.merge({item})")],
        [(0, f"{awaiting}{session}.delete({item})")],
        [(0, f"{awaiting}{session}.execute(update(Item).where(Item.id == {item}.id).values(seen=True))")],
        [(0, f"{session}.flush()")],
        [(0, "processed += 1")],
        block(f"if {item} is None:", [(0, "continue")]),
        block(f"if getattr({item}, 'stop', False):", [(0, "break")]),
        [(0, f'print("saved", {item}.id)')],
        [(0, f"logger.info('saved %s', {item})")],
    ]
    if context.in_function:
        choices.append(block(f"if not {item}:", [(0, "return processed")]))
    return draw(st.sampled_from(choices))


@st.composite
def commit_statement(draw: st.DrawFn, session: str, item: str, context: Context) -> list[Line]:
    awaiting = "await " if context.in_async and draw(st.booleans()) else ""
    commit = f"{awaiting}{session}.commit(){draw(TRAILING_COMMENT)}"
    shape = draw(st.sampled_from(["plain", "plain", "try", "try-bare", "if", "try-finally"]))
    if shape == "plain":
        return [(0, commit)]
    if shape == "if":
        return block(f"if {item}.ready:", [(0, commit)])
    if shape == "try-finally":
        return [*block("try:", [(0, commit)]), *block("finally:", [(0, f"{session}.close()")])]
    after = draw(st.sampled_from(["raise", "continue", "pass", "logger.exception('commit failed')", "failed += 1"]))
    handler = "except:" if shape == "try-bare" else draw(
        st.sampled_from(["except Exception:", "except SQLAlchemyError as exc:", "except (IntegrityError, ValueError):"])
    )
    return [
        *block("try:", [(0, commit)]),
        *block(handler, [(0, f"{awaiting}{session}.rollback()"), (0, after)]),
    ]


@st.composite
def loop(draw: st.DrawFn, session: str, context: Context, depth: int = 0) -> list[Line]:
    item = draw(ITEM)
    kinds = ["for", "for", "enumerate", "while"]
    if context.in_async:
        kinds.append("async for")
    kind = draw(st.sampled_from(kinds))
    source = "items" if depth == 0 else "batch"
    inner = Context(context.in_function, context.in_async, True, context.in_class)
    body: list[Line] = []
    if kind == "for":
        header = f"for {item} in {source}:"
    elif kind == "enumerate":
        header = f"for index, {item} in enumerate({source}):"
    elif kind == "async for":
        header = f"async for {item} in stream({source}):"
    else:
        header = f"while {source}:"
        body.append((0, f"{item} = {source}.pop()"))
    body += draw(maybe_comment_line())
    for _ in range(draw(st.integers(0, 3))):
        body += draw(loop_body_statement(session, item, inner))
    if depth < 2 and draw(st.integers(0, 3)) == 0:
        body += draw(loop(session, inner, depth + 1))
    body += draw(commit_statement(session, item, inner))
    for _ in range(draw(st.integers(0, 1))):
        body += draw(loop_body_statement(session, item, inner))
    lines = block(header, body)
    if draw(st.integers(0, 5)) == 0:
        lines += block("else:", [(0, f"{session}.commit()")])
    return lines


@st.composite
def loop_commit_function(draw: st.DrawFn) -> list[Line]:
    """A function or method whose loop commits a database session on every pass."""
    is_async = draw(st.booleans())
    session, setup, wrapper = draw(session_setup(is_async))
    is_method = session.startswith("self.") or draw(st.integers(0, 4)) == 0
    context = Context(in_function=True, in_async=is_async, in_class=False)
    params = "self, items" if is_method else draw(st.sampled_from(["items", "items, batch_size=100", "items: list[Item]"]))
    if not is_method and session == "session" and "=" not in params and draw(st.booleans()):
        params += ", session: Session"  # an annotated parameter makes it a session too
    body: list[Line] = [*setup, (0, "processed = 0"), (0, "failed = 0")]
    loop_lines = draw(loop(session, context))
    if wrapper is not None:
        body += block(wrapper, loop_lines)
    else:
        body += loop_lines
    body.append((0, draw(st.sampled_from(["return processed", "return failed", f"{session}.commit()", "pass"]))))
    if not is_async and draw(st.integers(0, 4)) == 0:  # a generator that yields each saved row
        body.insert(len(setup) + 2, (0, "yield processed"))
    prefix = "async def" if is_async else "def"
    function = block(f"{prefix} {draw(FUNCTION_NAME)}({params}):", body)
    if is_method:
        return block(f"class {draw(st.sampled_from(['Importer', 'UserService', 'Worker']))}:", function)
    return function


# -- routes that commit ------------------------------------------------------------------------------


@st.composite
def flask_route(draw: st.DrawFn) -> list[Line]:
    owner = draw(st.sampled_from(["app", "bp", "blueprint", "api"]))
    verb = draw(st.sampled_from(["post", "put", "delete", "patch"]))
    decorator = draw(
        st.sampled_from(
            [
                f'@{owner}.route("/items", methods=["{verb.upper()}"])',
                f'@{owner}.route("/items/<int:item_id>", methods=("{verb.upper()}", "GET"))',
                f'@{owner}.{verb}("/items/<int:item_id>")',
            ]
        )
    )
    param = "item_id" if "item_id" in decorator else ""
    extra_decorators = draw(st.sampled_from([[], ["@login_required"], ["@login_required", "@cache.cached(timeout=5)"]]))
    is_async = draw(st.integers(0, 3)) == 0
    body: list[Line] = [(0, "data = request.get_json()")]
    if draw(st.booleans()):
        body += block("if not data:", [(0, draw(st.sampled_from(["abort(400)", 'return jsonify(error="empty"), 400'])))])
    model = draw(st.sampled_from(["Item(**data)", 'Item(name=data["name"])', "Item.from_dict(data)"]))
    body.append((0, f"item = {model}"))
    body.append((0, "db.session.add(item)"))
    commit = "db.session.commit()"
    if draw(st.integers(0, 2)) == 0:
        body += [
            *block("try:", [(0, commit)]),
            *block(
                draw(st.sampled_from(["except IntegrityError:", "except:", "except Exception as exc:"])),
                [(0, "db.session.rollback()"), (0, draw(st.sampled_from(["abort(409)", "raise", 'return jsonify(error="conflict"), 409'])))],
            ),
        ]
    else:
        body.append((0, commit))
    if draw(st.booleans()):
        body.append((0, 'flash("saved")'))
    body.append((0, draw(st.sampled_from(["return jsonify(id=item.id), 201", 'return redirect(url_for("index"))', "return item.to_dict()", 'return "", 204']))))
    name = draw(st.sampled_from(["create_item", "update_item", "remove_item", "save"]))
    header = f"{'async def' if is_async else 'def'} {name}({param}):"
    return [*((0, d) for d in [decorator, *extra_decorators]), *block(header, body)]


@st.composite
def fastapi_route(draw: st.DrawFn) -> list[Line]:
    owner = draw(st.sampled_from(["app", "router"]))
    verb = draw(st.sampled_from(["post", "put", "delete", "patch", "api_route"]))
    path = draw(st.sampled_from(['"/items"', '"/items/{item_id}"']))
    arguments = path + draw(st.sampled_from(["", ", status_code=201", ", response_model=ItemOut"]))
    if verb == "api_route":
        arguments += ', methods=["POST"]'
    is_async = draw(st.booleans())
    session_type = "AsyncSession" if is_async and draw(st.booleans()) else "Session"
    dependency = draw(st.sampled_from(["get_db", "get_session"]))
    db_param = draw(
        st.sampled_from(
            [
                f"db: {session_type} = Depends({dependency})",
                f"db: Annotated[{session_type}, Depends({dependency})]",
                f"session: {session_type} = Depends({dependency})",
                f"db=Depends({dependency})",
            ]
        )
    )
    db = "session" if db_param.startswith("session") else "db"
    params = ["payload: ItemIn", db_param]
    if "item_id" in path:
        params.insert(0, "item_id: int")
    if draw(st.integers(0, 3)) == 0:
        params.insert(-1, "background_tasks: BackgroundTasks")
    awaiting = "await " if is_async and session_type == "AsyncSession" else ""
    body: list[Line] = []
    if "item_id" in path and draw(st.booleans()):
        body += [(0, f"existing = {awaiting}{db}.get(Item, item_id)")]
        body += block("if existing is None:", [(0, 'raise HTTPException(status_code=404, detail="not found")')])
    body.append((0, draw(st.sampled_from(["item = Item(**payload.dict())", "item = Item(**payload.model_dump())", "item = Item(name=payload.name)"]))))
    body.append((0, f"{db}.add(item)"))
    if draw(st.integers(0, 3)) == 0:
        body += block("for tag in payload.tags:", [(0, f"{db}.add(Tag(name=tag, item=item))"), (0, f"{awaiting}{db}.commit()")])
    body.append((0, f"{awaiting}{db}.commit()"))
    if draw(st.booleans()):
        body.append((0, f"{awaiting}{db}.refresh(item)"))
    if "background_tasks: BackgroundTasks" in params:
        body.append((0, "background_tasks.add_task(notify, item.id)"))
    body.append((0, draw(st.sampled_from(["return item", 'return {"id": item.id}', "return None"]))))
    name = draw(st.sampled_from(["create_item", "update_item", "delete_item", "upsert"]))
    header = f"{'async def' if is_async else 'def'} {name}({', '.join(params)}):"
    return [(0, f"@{owner}.{verb}({arguments})"), *block(header, body)]


@st.composite
def method_view(draw: st.DrawFn) -> list[Line]:
    verb = draw(st.sampled_from(["post", "put", "delete"]))
    body = [(0, "item = Item(**request.form)"), (0, "db.session.add(item)"), (0, "db.session.commit()"), (0, 'return "", 201')]
    base = draw(st.sampled_from(["MethodView", "Resource", "views.MethodView"]))
    return block(f"class ItemAPI({base}):", block(f"def {verb}(self):", body))


@st.composite
def route(draw: st.DrawFn) -> list[Line]:
    lines = draw(st.one_of(flask_route(), fastapi_route(), method_view()))
    if draw(st.integers(0, 4)) == 0:  # the application-factory pattern: routes inside create_app()
        factory_body = [(0, "app = Flask(__name__)"), *lines, (0, "return app")]
        return block("def create_app(config=None):", factory_body)
    return lines


# -- print calls ---------------------------------------------------------------------------------------

PRINT_POSITIONAL = st.sampled_from(
    [
        '"hello"',
        "'50% done'",
        '"%s items" % count',
        '"%d%%" % percent',
        "f'{name!r}'",
        'f"{value:>10}"',
        'f"{value!r:^8}"',
        'f"{ratio:.2f}%"',
        'f"{{literal}} {name}"',
        'f"{name=}"',
        "f\"{data['key']}\"",
        'f"{count:{width}d}"',
        '"a" "b"',
        "name",
        "len(items)",
        "*args",
        "*[1, 2]",
        '"{} {}".format(a, b)',
        'r"C:\\path"',
        "b'bytes'",
        '"""triple"""',
        "obj.attr",
        "-1",
        "None",
        '"tab\\tnewline\\n"',
        "'quote \\' inside'",
    ]
)
PRINT_KEYWORD = st.sampled_from(
    [
        'sep=" "',
        'sep=""',
        "sep=separator",
        'end=""',
        'end="\\n\\n"',
        "file=sys.stderr",
        "file=sys.stdout",
        "file=fh",
        "flush=True",
        "**options",
    ]
)


@st.composite
def print_call(draw: st.DrawFn, extra_expressions: st.SearchStrategy[str] | None = None) -> str:
    positional = draw(st.lists(PRINT_POSITIONAL, max_size=4))
    if extra_expressions is not None:
        positional += [f"({e})" for e in draw(st.lists(extra_expressions, max_size=1))]
    keywords = draw(st.lists(PRINT_KEYWORD, max_size=3, unique_by=lambda k: k.split("=")[0]))
    starred_kwargs = [k for k in keywords if k.startswith("**")]
    keywords = [k for k in keywords if not k.startswith("**")] + starred_kwargs
    arguments = ", ".join(positional + keywords)
    if draw(st.integers(0, 6)) == 0 and arguments:  # arguments over several lines
        arguments = "\n        " + ",\n        ".join(positional + keywords) + ",\n    "
    return f"print({arguments}){draw(TRAILING_COMMENT)}"


@st.composite
def print_fragment(draw: st.DrawFn, extra_expressions: st.SearchStrategy[str] | None = None) -> list[Line]:
    call = draw(print_call(extra_expressions))
    first, *rest = call.split("\n")
    # A call over several lines: its arguments one level deeper, the closing parenthesis back.
    call_lines = [(0, first), *((1, text.strip()) for text in rest[:-1]), *((0, text.strip()) for text in rest[-1:])]
    # A __main__ guard makes print-to-logging leave the whole module alone: keep it rare.
    where = draw(
        st.sampled_from(["module", "function", "function", "method", "method", "loop", "loop", "nested", "lambda", "comprehension", "main"])
    )
    if where == "module":
        return call_lines
    if where == "function":
        return block(f"def {draw(FUNCTION_NAME)}(name, value=None, *args, **kwargs):", call_lines)
    if where == "method":
        return block("class Report:", block("def show(self, name):", call_lines))
    if where == "main":
        return block('if __name__ == "__main__":', call_lines)
    if where == "loop":
        return block("def report(items):", block("for name in items:", call_lines))
    if where == "nested":
        return block("def outer():", block("def inner(name):", call_lines))
    call_text = " ".join(part.strip() for part in call.split("\n")).split("  #")[0]
    if where == "lambda":
        return [(0, f"callback = lambda name: {call_text}")]
    return [(0, f"[{call_text} for name in names]")]


# -- bare excepts ---------------------------------------------------------------------------------------


@st.composite
def handler_body(draw: st.DrawFn, context: Context) -> list[Line]:
    choices = [
        "pass",
        "raise",
        "...",
        '"""ignored on purpose"""',
        "value = None",
        "value = {}",
        "value = []",
        "value = -1",
        "logger.warning('failed')",
        'raise RuntimeError("wrapped")',
        "cleanup()",
        "print('oops', file=sys.stderr)",
    ]
    if context.in_function:
        choices += ["return None", "return", "return False", "return {}"]
    if context.in_loop:
        choices += ["continue", "break"]
    lines = [(0, s) for s in draw(st.lists(st.sampled_from(choices), min_size=1, max_size=3))]
    if draw(st.integers(0, 4)) == 0:
        lines.append((0, "raise"))
    return lines


@st.composite
def try_bare_except(draw: st.DrawFn, context: Context, depth: int = 0) -> list[Line]:
    body: list[Line] = [(0, draw(st.sampled_from(["value = compute()", "import ujson as json", "os.remove(path)", "result = risky(1, 2)"])))]
    if depth < 2 and draw(st.integers(0, 4)) == 0:
        body += draw(try_bare_except(context, depth + 1))
    lines = block("try:", body)
    if draw(st.integers(0, 3)) == 0:
        lines += block("except ValueError:", [(0, "value = 0")])
    header = draw(
        st.sampled_from(
            ["except:", "except:", "except :", "except:  # noqa: E722", "except:  # noqa: E722, BLE001", "except:  # pylint: disable=bare-except", "except:  # why not"]
        )
    )
    if draw(st.integers(0, 5)) == 0:
        statement = draw(st.sampled_from(["pass", "return", "continue"] if context.in_loop and context.in_function else ["pass"]))
        if statement == "return" and not context.in_function:
            statement = "pass"
        lines.append((0, f"{header.split('  #')[0]} {statement}"))
    else:
        handler = draw(handler_body(context))
        if depth < 2 and draw(st.integers(0, 5)) == 0:
            handler = draw(try_bare_except(context, depth + 1)) + handler
        lines += block(header, handler)
    if draw(st.integers(0, 4)) == 0:
        lines += block("else:", [(0, "done = True")])
    if draw(st.integers(0, 4)) == 0:
        lines += block("finally:", [(0, "close()")])
    return lines


@st.composite
def bare_except_fragment(draw: st.DrawFn) -> list[Line]:
    where = draw(st.sampled_from(["module", "function", "async", "method", "class-body", "loop", "nested", "with", "logger-shadowed"]))
    if where == "module":
        return draw(try_bare_except(MODULE))
    if where == "class-body":
        return block("class Settings:", draw(try_bare_except(Context(in_class=True))))
    function = Context(in_function=True)
    if where == "function":
        return block(f"def {draw(FUNCTION_NAME)}(path):", draw(try_bare_except(function)))
    if where == "async":
        return block("async def fetch(url):", draw(try_bare_except(Context(in_function=True, in_async=True))))
    if where == "method":
        return block("class Loader:", block("def load(self, path):", draw(try_bare_except(function))))
    if where == "loop":
        return block("def drain(items):", block("for item in items:", draw(try_bare_except(Context(in_function=True, in_loop=True)))))
    if where == "nested":
        return block("def outer():", block("def inner():", draw(try_bare_except(function))) + [(0, "return inner")])
    if where == "with":
        return block("def read(path):", block("with open(path) as fh:", draw(try_bare_except(function))))
    # A local variable named like the module logger: no log call may be added there.
    return block("def configure(logger=None):", [(0, "logger = logger or make_logger()"), *draw(try_bare_except(function))])


# -- Pydantic models with class Config ----------------------------------------------------------------

CONFIG_ENTRIES = st.sampled_from(
    [
        "orm_mode = True",
        "allow_population_by_field_name = True",
        "extra = Extra.forbid",
        'extra = "ignore"',
        "extra = 'allow'",
        "validate_assignment = True",
        "arbitrary_types_allowed = True",
        "use_enum_values = True",
        "anystr_strip_whitespace = True",
        "anystr_strip_whitespace: bool = True",
        "min_anystr_length = 1",
        "max_anystr_length: int = 255",
        "allow_mutation = False",
        "frozen = True",
        'title = "Item"',
        'schema_extra = {"example": {"name": "x"}}',
        "json_encoders = {datetime: lambda v: v.isoformat()}",
        'fields = {"name": {"alias": "n"}}',
        "underscore_attrs_are_private = True",
        "copy_on_model_validation = False",
        "smart_union = True",
        "alias_generator = to_camel",
        "validate_all = True",
        'env_prefix = "APP_"',
        'env_file = ".env"',
        "case_sensitive = False",
        "keep_untouched = (cached_property,)",
        "custom_flag = 1",
        "# a comment about the next key",
        '"""Config docstring."""',
        "pass",
    ]
)
CONFIG_METHODS = st.sampled_from(
    [
        ["@staticmethod", "def schema_extra(schema, model):", '    schema.pop("title", None)'],
        ["@classmethod", "def prepare_field(cls, field):", "    pass"],
        ["def alias_generator(name):", "    return name.upper()"],
        ["@staticmethod", "def json_dumps(value, *, default):", "    return dumps(value, default=default)"],
    ]
)


@st.composite
def config_class(draw: st.DrawFn, base: str | None) -> list[Line]:
    entries = [(0, e) for e in draw(st.lists(CONFIG_ENTRIES, min_size=1, max_size=5))]
    for method in draw(st.lists(CONFIG_METHODS, max_size=1)):
        entries += [(1 if line.startswith("    ") else 0, line.strip()) for line in method]
    parent = f"({base})" if base else draw(st.sampled_from(["", "", "()"]))
    return block(f"class Config{parent}:{draw(TRAILING_COMMENT)}", entries)


@st.composite
def model_fragment(draw: st.DrawFn) -> list[Line]:
    base = draw(st.sampled_from(["BaseModel", "BaseModel", "pydantic.BaseModel", "BaseSettings", "GenericModel, Generic[T]", "Base"]))
    name = draw(st.sampled_from(["User", "ItemIn", "Settings", "Payload"]))
    fields = draw(st.lists(st.sampled_from(['name: str', 'id: int = 0', 'tags: list[str] = []', 'email: Optional[str] = Field(None, alias="mail")', "created: datetime"]), max_size=3, unique=True))
    body: list[Line] = [(0, f) for f in fields]
    if draw(st.integers(0, 3)) == 0:
        body.insert(0, (0, '"""A model."""'))
    body += draw(config_class(None))
    if draw(st.integers(0, 3)) == 0:
        body += block("def display(self):", [(0, "return self.name")])
    if draw(st.integers(0, 4)) == 0:
        body += block("class Meta:", [(0, 'ordering = ["name"]')])
    lines = block(f"class {name}({base}):", body)
    if base == "Base":  # a model whose base is defined in the same file
        lines = block("class Base(BaseModel):", draw(config_class(None))) + [(0, "")] + lines
    if draw(st.integers(0, 3)) == 0:  # a subclass with an inherited Config
        child_body = [(0, "extra_field: int = 1")]
        child_body += draw(config_class(draw(st.sampled_from([f"{name}.Config", "BaseConfig", f"{name}.Config, Other"]))))
        lines += [(0, "")] + block(f"class Child{name}({name}):", child_body)
    if draw(st.integers(0, 5)) == 0:  # not a Pydantic model: its Config must stay
        lines += [(0, "")] + block("class Plain:", block("class Config:", [(0, "debug = True")]))
    return lines


# -- the rest of the Pydantic v1 API: methods, validators, Field arguments ---------------------------

V1_FIELDS = st.sampled_from(
    [
        "name: str",
        "nickname: Optional[str]",
        'code: str = Field(..., regex="[A-Z]+")',
        "tags: list[str] = Field(default_factory=list, min_items=1)",
        "frozen_id: int = Field(0, allow_mutation=False)",
        "size: int = Field(1, example=3)",
        'db_url: str = Field("sqlite://", env="DATABASE_URL")',
        "kind: str = Field('a', const=True)",
    ]
)
V1_VALIDATORS = st.sampled_from(
    [
        ['@validator("name", pre=True)', "def strip(cls, v):", "    return v.strip()"],
        ['@validator("name")', "def differs(cls, v, values):", '    return v if v != values.get("nickname") else v + "!"'],
        ['@validator("name", always=True)', "def lower(cls, v):", "    return v.lower()"],
        ['@validator("tags", each_item=True)', "def item(cls, v):", "    return v"],
        ["@root_validator(pre=True)", "def before(cls, values):", "    return values"],
        ["@root_validator(skip_on_failure=True)", "def after(cls, values):", '    assert values["name"]', "    return values"],
        ["@root_validator", "def whole(cls, values):", "    return dict(values)"],
    ]
)
V1_CALLS = st.sampled_from(
    [
        "return item.dict()",
        "return item.json(indent=2)",
        "return item.json(encoder=str)",
        'return item.copy(update={"name": "x"})',
        "return item.copy(include={'name'})",
        "return Model.parse_obj(data)",
        "return Model.from_orm(data)",
        "return Model.parse_raw(data).dict(by_alias=True)",
        "return Model.schema_json(indent=2)",
        "return list(Model.__fields__), item.__fields_set__",
        "return [i.dict() for i in items]",
        "return data.copy(), data.json()",
    ]
)


@st.composite
def pydantic_api_fragment(draw: st.DrawFn) -> list[Line]:
    base = draw(st.sampled_from(["BaseModel", "BaseSettings", "pydantic.BaseModel", "GenericModel, Generic[T]"]))
    body: list[Line] = [(0, f) for f in draw(st.lists(V1_FIELDS, min_size=1, max_size=3, unique=True))]
    for validator in draw(st.lists(V1_VALIDATORS, max_size=2, unique_by=lambda v: v[1])):
        body += [(0, "")] + [(1 if line.startswith("    ") else 0, line.strip()) for line in validator]
    lines = block(f"class Model({base}):", body)
    calls = [(0, call) for call in draw(st.lists(V1_CALLS, min_size=1, max_size=2))]
    signature = draw(st.sampled_from(["item: Model, data, items: list[Model]", "item: Optional[Model], data, items", "item, data, items"]))
    return lines + [(0, "")] + block(f"def use({signature}):", calls)


# -- whole programs -------------------------------------------------------------------------------------

HEADER_LINES = [
    "import logging",
    "import os",
    "import sqlite3",
    "import sys",
    "from datetime import datetime",
    "from functools import cached_property",
    "from typing import Annotated, Generic, Optional, TypeVar",
    "",
    "import pydantic",
    "from fastapi import APIRouter, BackgroundTasks, Depends, FastAPI, HTTPException",
    "from flask import Blueprint, Flask, abort, flash, jsonify, redirect, request, url_for",
    "from flask.views import MethodView",
    "from flask_restful import Resource",
    "from pydantic import BaseConfig, BaseModel, BaseSettings, Extra, Field, root_validator, validator",
    "from pydantic.generics import GenericModel",
    "from sqlalchemy import update",
    "from sqlalchemy.exc import IntegrityError, SQLAlchemyError",
    "from sqlalchemy.ext.asyncio import AsyncSession",
    "from sqlalchemy.orm import Session, scoped_session, sessionmaker",
    "",
    "from app.database import AsyncSessionLocal, SessionLocal, engine, get_db, get_session",
    "from app.extensions import db",
    "from app.models import Item, Tag",
]
MODULE_SETUP = [
    "logger = logging.getLogger(__name__)",
    "app = Flask(__name__)",
    'bp = Blueprint("items", __name__)',
    "router = APIRouter()",
    'T = TypeVar("T")',
]

# -- secret-compare, request-timeout, utcnow --------------------------------------------------------

SECRET = st.sampled_from(
    ["settings.ADMIN_TOKEN", 'current_app.config["API_KEY"]', 'os.environ.get("WEBHOOK_SECRET")', "user.reset_token",
     'f"Bearer {settings.API_TOKEN}"', "ADMIN_TOKEN"]
)  # fmt: skip
REQUEST_VALUE = st.sampled_from(
    ['request.headers.get("X-Token")', 'request.args["token"]', "token", 'request.headers.get("Authorization", "")']
)  # fmt: skip


@st.composite
def secret_compare_fragment(draw: st.DrawFn) -> list[Line]:
    secret, given = draw(SECRET), draw(REQUEST_VALUE)
    left, right = (secret, given) if draw(st.booleans()) else (given, secret)
    operator = draw(st.sampled_from(["==", "!=", "=="]))
    comparison = draw(st.sampled_from([f"{left} {operator} {right}", f"({left} {operator} {right})", f"(\n{left}\n{operator} {right}\n)"]))
    comparison = comparison.replace("\n", " ") if draw(st.integers(0, 2)) else comparison
    body: list[Line]
    if "\n" in comparison:
        parts = comparison.split("\n")
        body = [(0, f"ok = {parts[0]}"), *((1, part) for part in parts[1:-1]), (0, parts[-1])]
    else:
        body = draw(st.sampled_from([[(0, f"return {comparison}")], block(f"if {comparison}:", [(0, "abort(403)")]),
                                     [(0, f"ok = {comparison} or {left} == 'x'")]]))  # fmt: skip
    extra = [(0, "ADMIN_TOKEN = os.environ.get('ADMIN_TOKEN', '')"), (0, "")] if "ADMIN_TOKEN" in comparison else []
    decorator = [(0, '@bp.route("/admin", methods=["POST"])')] if draw(st.booleans()) else []
    return extra + decorator + block("def check(token, user=None):", body)


HTTP_CALL = st.sampled_from(
    ["requests.get(url)", "requests.post(url, json=payload)", "requests.request('GET', url, headers={})",
     "requests.get(url, timeout=5)", "requests.put(url, **kwargs)", "session.get(url)", "session.post(url, data=b'x')",
     "urllib.request.urlopen(url)", "urllib.request.urlopen(url, None, 3)", "http_get(url)"]
)  # fmt: skip


@st.composite
def request_timeout_fragment(draw: st.DrawFn) -> list[Line]:
    call = draw(HTTP_CALL)
    if draw(st.integers(0, 2)) == 0 and call.endswith(")") and "(" in call:
        head, _, rest = call.partition("(")
        arguments = [a for a in rest[:-1].split(", ") if a]
        trailing = "," if draw(st.booleans()) else ""
        lines: list[Line] = [(0, f"response = {head}("), *((1, f"{a}," ) for a in arguments[:-1]), (1, f"{arguments[-1]}{trailing}"), (0, ")")]
    else:
        lines = [(0, f"response = {call}")]
    setup = [(0, "import requests"), (0, "import urllib.request"), (0, "from requests import get as http_get")]
    if draw(st.booleans()):
        setup.append((0, "session = requests.Session()"))
        return setup + [(0, "")] + block("def fetch(url, payload=None, **kwargs):", [*lines, (0, "return response")])
    return setup + [(0, "")] + block(
        "def fetch(url, payload=None, **kwargs):", block("with requests.Session() as session:", [*lines, (0, "return response")])
    )


@st.composite
def utcnow_fragment(draw: st.DrawFn) -> list[Line]:
    style = draw(st.sampled_from(["from", "module", "alias", "local"]))
    spelled = {"from": "datetime", "module": "datetime.datetime", "alias": "dt.datetime", "local": "datetime"}[style]
    imports = {"from": "from datetime import datetime", "module": "import datetime", "alias": "import datetime as dt"}
    use = draw(st.sampled_from(["call", "timestamp", "aware", "reference", "compare"]))
    expression = {
        "call": f"{spelled}.utcnow()",
        "timestamp": f"{spelled}.utcfromtimestamp(ts)",
        "aware": f"{spelled}.utcnow().replace(tzinfo=timezone.utc)",
        "reference": f"Clock(now={spelled}.utcnow)",
        "compare": f"{spelled}.utcnow() - timedelta(days=1) > row.seen_at",
    }[use]
    body = [(0, imports["from"])] if style == "local" else []
    body.append((0, f"return {expression}"))
    lines = [] if style == "local" else [(0, imports[style]), (0, "")]
    if draw(st.integers(0, 3)) == 0:
        lines += block("class Event(Base):", [(0, f"created_at = Column(DateTime, default={spelled}.utcnow)")]) + [(0, "")]
    return lines + block("def stamp(ts=0, row=None):", body)


PATTERNS: dict[str, Callable[[], st.SearchStrategy[list[Line]]]] = {
    "loop-commit": loop_commit_function,
    "route-commit": route,
    "print": print_fragment,
    "bare-except": bare_except_fragment,
    "pydantic-config": model_fragment,
    "secret-compare": secret_compare_fragment,
    "request-timeout": request_timeout_fragment,
    "utcnow": utcnow_fragment,
    "pydantic-api": pydantic_api_fragment,
}


@st.composite
def header(draw: st.DrawFn) -> list[Line]:
    """Imports and module setup, each line usually present: a missing one is an edge case."""
    lines: list[Line] = []
    if draw(st.integers(0, 3)) == 0:
        lines.append((0, '"""Module docstring."""'))
    if draw(st.integers(0, 3)) == 0:
        lines.append((0, "from __future__ import annotations"))
    kept = [text for text in HEADER_LINES if not text or draw(st.integers(0, 4)) > 0]
    lines += [(0, text) for text in kept]
    lines.append((0, ""))
    for text in MODULE_SETUP:
        if text.startswith("logger") and "import logging" not in kept:
            continue
        if draw(st.integers(0, 4)) > 0:
            lines.append((0, text))
    return lines


def fragments(*names: str) -> st.SearchStrategy[list[Line]]:
    """Any one fragment of the named patterns (all patterns when none are named)."""
    chosen = names or tuple(PATTERNS)
    return st.one_of(*(PATTERNS[n]() for n in chosen))


@st.composite
def wrapped(draw: st.DrawFn, fragment: st.SearchStrategy[list[Line]]) -> list[Line]:
    """A fragment at module level, or inside an ``if``, a ``try`` or a ``class``."""
    lines = draw(fragment)
    where = draw(st.sampled_from(["module", "module", "module", "if", "try-import", "type-checking"]))
    if where == "if":
        return block("if os.environ.get('FEATURE'):", lines)
    if where == "try-import":
        return block("try:", lines) + block("except ImportError:", [(0, "pass")])
    if where == "type-checking":
        return block("if not TYPE_CHECKING:", lines)
    return lines


@st.composite
def programs(draw: st.DrawFn, *names: str, min_fragments: int = 1, max_fragments: int = 4) -> str:
    """A module with imports, setup and a few pattern fragments, in a random layout style."""
    lines = draw(header())
    for fragment in draw(st.lists(wrapped(fragments(*names)), min_size=min_fragments, max_size=max_fragments)):
        lines += [(0, ""), (0, ""), *fragment]
    if draw(st.integers(0, 9)) == 0:
        lines += [(0, ""), *block('if __name__ == "__main__":', [(0, "main()")])]
    return render_styled(draw, lines)


def render_styled(draw: st.DrawFn, lines: list[Line]) -> str:
    unit = draw(st.sampled_from(["    ", "    ", "    ", "  ", "\t"]))
    newline = draw(st.sampled_from(["\n", "\n", "\n", "\r\n"]))
    source = render(lines, unit, newline)
    if draw(st.integers(0, 9)) == 0:
        source = source.rstrip("\r\n")  # no newline at the end of the file
    return source


# -- hypothesmith: grammar-generated code around the patterns --------------------------------------


# hypothesmith's automatic targeting (hypothesis.target, once per label and test case) is off:
# these strategies are drawn more than once per test case whenever a filter retries, and a
# second target() with the same label is an error in hypothesis.


@functools.cache
def grammar_expressions() -> st.SearchStrategy[str]:
    """Arbitrary expressions and f-strings built by hypothesmith from libcst's node types."""
    expression = hypothesmith.from_node(cst.BaseExpression, auto_target=False)
    return st.one_of(expression, hypothesmith.from_node(cst.FormattedString, auto_target=False)).filter(
        lambda e: "\n" not in e and "\r" not in e and "#" not in e and compiles(f"f(({e}))")
    )


@functools.cache
def _generated_modules(from_nodes: bool) -> st.SearchStrategy[str]:
    # Building hypothesmith's strategies is slow (seconds): build each one once.
    return hypothesmith.from_node(auto_target=False) if from_nodes else hypothesmith.from_grammar(auto_target=False)


@st.composite
def grammar_module_with_pattern(draw: st.DrawFn, from_nodes: bool = False) -> str:
    """A module hypothesmith generated from the grammar (or, slower, from libcst's node types),
    followed by a pattern fragment."""
    generated = draw(_generated_modules(from_nodes))
    pattern = render(draw(fragments()))
    if not generated.strip():
        return pattern
    # A generated module may end in a comment, a form feed or trailing blanks without a newline.
    return generated.rstrip(" \t\x0c\\") + "\n" + pattern


@st.composite
def prints_of_generated_expressions(draw: st.DrawFn) -> str:
    """``print`` calls whose arguments include hypothesmith's expressions and f-strings."""
    lines = [(0, "import sys"), (0, "")] + draw(print_fragment(grammar_expressions()))
    return render_styled(draw, lines)


def valid(strategy: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Only programs that CPython compiles and libcst parses (the promises are about such code)."""
    return strategy.filter(compiles).filter(parses_with_libcst)


@st.composite
def model_package(draw: st.DrawFn) -> dict[str, str]:
    """Two modules: a base model with a Config, and models in another module that inherit it."""
    base_config = draw(config_class(None))
    base = render(
        [(0, "from pydantic import BaseModel, Extra"), (0, ""), (0, ""), *block("class Base(BaseModel):", [(0, "id: int = 0"), *base_config])]
    )
    child_config = draw(config_class(draw(st.sampled_from([None, "Base.Config"]))))
    import_line = draw(st.sampled_from(["from app.base import Base", "from .base import Base", "from app import base as models"]))
    base_name = "models.Base" if "as models" in import_line else "Base"
    child = render(
        [(0, import_line), (0, "from pydantic import Extra"), (0, ""), (0, ""), *block(f"class Child({base_name}):", [(0, "name: str = ''"), *child_config])]
    )
    child = child.replace("(Base.Config)", f"({base_name}.Config)")
    return {"app/__init__.py": "", "app/base.py": base, "app/child.py": child}


EXISTING_SERVICE_MODULES = [
    "def create_item(item):\n    return item\n",
    "import logging\r\n\r\nlogger = logging.getLogger(__name__)\r\n\r\n\r\ndef helper():\r\n    pass\r\n",
    "def helper():\n    print('x')\n    try:\n        pass\n    except:\n        pass",
    '"""Services."""\nfrom app.extensions import db\n\n\nclass ItemService:\n    pass\n',
]


@st.composite
def route_package(draw: st.DrawFn) -> dict[str, str]:
    """A package whose views commit in routes, sometimes with a service module already there:
    one of ``EXISTING_SERVICE_MODULES``, one that does not parse, or a module ``app/services.py``
    the new package would shadow (route-commit declines the last two with a finding)."""
    views = draw(valid(programs("route-commit", max_fragments=3)))
    files = {"app/__init__.py": "", "app/views.py": views}
    existing = [*EXISTING_SERVICE_MODULES, "def (:\n", "services.py"]
    choice = draw(st.sampled_from([None, *existing]))
    if choice == "services.py":
        files["app/services.py"] = "X = 1\n"
    elif choice is not None:
        if draw(st.booleans()):
            files["app/services/__init__.py"] = ""
        files["app/services/item_service.py"] = choice
    return files
