"""The HTML preview (``auditfix run PATH --dry-run --html FILE``): one self-contained page,
checked as markup and, when Chromium is installed, rendered for real in headless Chromium."""

from __future__ import annotations

import html.parser
import http.server
import struct
import subprocess
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

import cli
import codemods.registry
from codemods.output import reports
from codemods.engine.config import resolve
from codemods.engine.runner import Engine
from tests.engine.toy_codemods import CollectRegistered
from tests.reporting_fixtures import NoneCompare, scan, write_tree

CHROMIUM = Path("/usr/bin/chromium")
runner = CliRunner()


class Element:
    def __init__(self, tag: str, attrs: dict[str, str]) -> None:
        self.tag, self.attrs, self.text, self.children = tag, attrs, "", []

    def find_all(self, predicate) -> list[Element]:
        found = [self] if predicate(self) else []
        for child in self.children:
            found.extend(child.find_all(predicate))
        return found

    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())


class Page(html.parser.HTMLParser):
    """A small DOM: every element with its attributes and its whole text content."""

    VOID = frozenset({"meta", "link", "br", "img", "col", "input", "hr"})

    def __init__(self, markup: str) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.stack = [self.root]
        self.feed(markup)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(element)
        if tag not in self.VOID:
            self.stack.append(element)

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.stack) - 1, 0, -1):
            if self.stack[index].tag == tag:
                del self.stack[index:]
                return

    def handle_data(self, data: str) -> None:
        for element in self.stack:
            element.text += data

    def by_id(self, identifier: str) -> Element:
        (element,) = self.root.find_all(lambda e: e.attrs.get("id") == identifier)
        return element

    def by_class(self, name: str, within: Element | None = None) -> list[Element]:
        return (within or self.root).find_all(lambda e: name in e.classes())


def html_of(root: Path) -> str:
    report, settings = scan(root)
    return reports.render_html(report, settings)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    return write_tree(tmp_path / "project")


def test_page_is_self_contained(tree: Path) -> None:
    markup = html_of(tree)
    page = Page(markup)
    references = [
        value
        for element in page.root.find_all(lambda e: True)
        for name, value in element.attrs.items()
        if name in ("src", "href", "srcset", "data", "action")
    ]
    assert references and all(value.startswith(("#", "data:")) for value in references)
    for marker in ("http://", "https://", "url(", "@import", "//cdn"):
        assert marker not in markup


def test_summary_table_and_totals(tree: Path) -> None:
    page = Page(html_of(tree))
    (row,) = page.root.find_all(lambda e: e.attrs.get("data-codemod") == "none-compare")
    cells = [c for c in row.children if c.tag == "td"]
    assert cells[0].text.strip() == "none-compare"
    assert cells[1].text.strip() == NoneCompare.summary.replace("`", "")
    assert [c.text for c in cells[1].children] == ["is", "=="]  # backticked code is shown as code
    assert [c.text.strip() for c in cells[2:4]] == ["4", "3"]
    assert "not rewritten: looks like a SQL column expression (1)" in cells[4].text
    assert page.by_id("total-findings").children[0].text == "4"
    assert page.by_id("total-changed").children[0].text == "2"


def test_bar_charts_per_category_and_per_top_folder(tree: Path) -> None:
    page = Page(html_of(tree))
    by_folder = page.by_id("chart-folders").find_all(lambda e: "data-label" in e.attrs)
    assert [(e.attrs["data-label"], e.attrs["data-total"]) for e in by_folder] == [("app", "2"), ("jobs", "2")]
    (app,) = [e for e in by_folder if e.attrs["data-label"] == "app"]
    widths = [e.attrs["style"] for e in app.find_all(lambda e: e.classes() & {"fix", "decl"})]
    assert widths == ["width: 50.0%", "width: 50.0%"]  # 1 fixable, 1 declined; the longest bar is 2
    by_category = page.by_id("chart-categories").find_all(lambda e: "data-label" in e.attrs)
    assert [(e.attrs["data-label"], e.attrs["data-total"]) for e in by_category] == [("none-compare", "4")]


def test_one_highlighted_diff_per_changed_file_under_its_category(tree: Path) -> None:
    page = Page(html_of(tree))
    files = page.root.find_all(lambda e: e.tag == "details" and "file" in e.classes())
    assert [f.attrs["data-path"] for f in files] == ["app/users.py", "jobs/cleanup.py"]
    cleanup = files[1]
    removed = [r.text for r in page.by_class("removed", cleanup)]
    added = [r.text for r in page.by_class("added", cleanup)]
    assert removed == ["2-    if item != None and other == None:"]
    assert added == ["2+    if item is not None and other is None:"]
    keywords = [e.text for e in page.by_class("k", cleanup)]  # pygments' class for keywords
    assert "def" in keywords and "return" in keywords
    # code is escaped, and reads back as the original text
    assert any('return "<b>&amp;</b>"' in r.text for r in page.by_class("context", cleanup))


def test_findings_link_to_their_file_diff(tree: Path) -> None:
    page = Page(html_of(tree))
    links = {a.text: a.attrs["href"] for a in page.root.find_all(lambda e: e.tag == "a" and "file-" in e.attrs.get("href", ""))}
    assert links["jobs/cleanup.py:2:8"] == "#" + page.root.find_all(lambda e: e.attrs.get("data-path") == "jobs/cleanup.py")[0].attrs["id"]
    assert "app/query.py:2:39" not in links  # declined: no diff to link to


def test_generated_files_show_as_new(tmp_path: Path) -> None:
    write_tree(tmp_path, {"jobs.py": "@register\ndef nightly():\n    pass\n"})
    settings = resolve(tmp_path, (CollectRegistered,), jobs=1, cache=False)
    page = Page(reports.render_html(Engine(tmp_path, settings).run(), settings))
    (registry,) = page.root.find_all(lambda e: e.attrs.get("data-path") == "registry.py")
    assert "(new file)" in registry.text
    assert page.by_class("removed", registry) == [] and len(page.by_class("added", registry)) == 1


def test_highlighting_keeps_one_line_per_line_across_multiline_strings() -> None:
    lines = ['x = """one', "two", 'three"""', "if x:", "    pass"]
    highlighted = reports.highlight_lines(lines)
    assert len(highlighted) == len(lines)
    assert all('class="s2"' in str(line) or 'class="sd"' in str(line) for line in highlighted[:3])
    assert '<span class="k">if</span>' in str(highlighted[3])
    assert reports.highlight_lines(["a = '<&>'"])[0].count("&lt;&amp;&gt;") == 1


def test_run_dry_run_html_writes_the_page_instead_of_the_diff(tree: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(codemods.registry, "REGISTRY", (NoneCompare,))
    out = tmp_path / "report.html"
    result = runner.invoke(cli.app, ["run", str(tree), "--dry-run", "--html", str(out), "--no-cache", "-j", "1"])
    assert result.exit_code == 1, result.stderr
    assert result.stdout == ""
    assert f"report written to {out}" in result.stderr
    assert out.read_text(encoding="utf-8") == html_of(tree)
    assert "user == None" in (tree / "app" / "users.py").read_text()  # a preview writes nothing else


# -- rendered in a real browser ------------------------------------------------------------------

needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="headless Chromium not installed (/usr/bin/chromium; Debian: apt-get install chromium)",
)


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / "chromium-profile"
    command = [
        str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}", *args,
    ]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=90, check=True)


@needs_chromium
def test_rendered_in_chromium_dom_and_screenshot(tree: Path, tmp_path: Path) -> None:
    page_file = tmp_path / "report.html"
    page_file.write_text(html_of(tree), encoding="utf-8")
    dom = Page(chromium(tmp_path, "--dump-dom", page_file.as_uri()).stdout)
    (title,) = dom.root.find_all(lambda e: e.tag == "title")
    assert title.text == "auditfix report: project"
    (row,) = dom.root.find_all(lambda e: e.attrs.get("data-codemod") == "none-compare")
    assert [c.text.strip() for c in row.children if c.tag == "td"][2:4] == ["4", "3"]
    files = dom.root.find_all(lambda e: e.tag == "details")
    assert [f.attrs["data-path"] for f in files] == ["app/users.py", "jobs/cleanup.py"]
    assert all("open" in f.attrs for f in files)
    assert [r.text for r in dom.by_class("added", files[0])] == ["12+    if user is None:"]

    shot = tmp_path / "report.png"
    chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,2000", page_file.as_uri())
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1280, 2000)
    assert len(data) > 20_000  # a blank page compresses to a few kilobytes


@needs_chromium
def test_the_page_loads_no_resource(tree: Path, tmp_path: Path) -> None:
    """Served over HTTP, the page is the only request, and resource timing lists nothing.

    (Over file:// Chromium records no resource timing, so the page is served from a local server.)
    """
    probe = (
        "<script>addEventListener('load', () => { document.body.dataset.resources = "
        "JSON.stringify(performance.getEntriesByType('resource').map(e => e.name)); });</script>"
    )
    (tmp_path / "report.html").write_text(html_of(tree).replace("</body>", probe + "</body>"), encoding="utf-8")
    requests: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, directory=str(tmp_path), **kwargs)

        def do_GET(self) -> None:
            requests.append(self.path)
            super().do_GET()

        def log_message(self, format: str, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/report.html"
        dom = Page(chromium(tmp_path, "--dump-dom", url).stdout)
    finally:
        server.shutdown()
        server.server_close()
    (body,) = dom.root.find_all(lambda e: e.tag == "body")
    assert body.attrs["data-resources"] == "[]"
    assert requests == ["/report.html"]


def test_backticked_code_in_summaries_and_messages_is_shown_as_code() -> None:
    assert reports.inline_code("use `x is None` & not `<`") == "use <code>x is None</code> &amp; not <code>&lt;</code>"
    assert reports.inline_code("a lone ` stays") == "a lone ` stays"
