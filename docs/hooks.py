"""MkDocs hooks (mkdocs.yml `hooks`): the pages generated at build time.

Nothing here is a committed copy that could drift from its source:

- `catalog.md`: the output of `keras-components catalog --format markdown`
  (the command's own entry point, run in the build's process).
- `benchmarks.md`: the README's "Performance" section, table included.
- `gallery.md`: every PNG under `docs/images/` (the demo's pictures) and
  `docs/gallery/` (the examples' pictures), captioned by file name; adding a
  picture needs no edit here.
- On the home page, `<!-- generated: readme quickstart -->` becomes the
  README's first `bash` block (its two commands); on the API overview,
  `<!-- generated: top-level names -->` becomes the table of the names
  `keras_components` exports, each linked to its reference entry (a name
  without one fails the strict build).

A source that is missing (no bash block, no "Performance" section, no
table) raises, so the strict build fails instead of shipping an empty page.
"""

from __future__ import annotations

import contextlib
import html
import io
import re
import sys
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = Path(__file__).resolve().parent
# Folders of pictures shown in the gallery, relative to docs/, with headings.
GALLERY_FOLDERS = {
    "images": "The demo (`keras-components demo`)",
    "gallery": "The examples (`examples/`)",
}
QUICKSTART_MARKER = "<!-- generated: readme quickstart -->"
TOPLEVEL_MARKER = "<!-- generated: top-level names -->"
# The modules of the API reference pages (docs/api/NAME.md documents them).
API_PAGES = {
    "keras_components.activations": "activations.md",
    "keras_components.layers": "layers.md",
    "keras_components.losses": "losses.md",
    "keras_components.metrics": "metrics.md",
    "keras_components.callbacks": "callbacks.md",
    "keras_components.plots": "plots.md",
    "keras_components.saving": "saving.md",
    "keras_components.compat.tfa": "compat-tfa.md",
}


def _readme() -> str:
    return README.read_text(encoding="utf-8")


def readme_quickstart(text: str) -> str:
    """The README's first fenced `bash` block, fences included."""
    match = re.search(r"^```bash\n.*?^```$", text, re.DOTALL | re.MULTILINE)
    if match is None:
        raise PluginError(f"{README}: no ```bash block (the two commands)")
    return match.group(0)


def readme_section(text: str, heading: str) -> str:
    """The body of the README's `## heading` section (up to the next `## `)."""
    match = re.search(
        rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", text, re.DOTALL | re.MULTILINE
    )
    if match is None:
        raise PluginError(f"{README}: no '## {heading}' section")
    return match.group(1).strip() + "\n"


def benchmarks_page(text: str) -> str:
    """The benchmarks page: the README's Performance section."""
    body = readme_section(text, "Performance")
    if not re.search(r"^\| benchmark \|", body, re.MULTILINE):
        raise PluginError(f"{README}: the Performance section has no benchmark table")
    # Its subsections become the page's sections.
    body = re.sub(r"^### ", "## ", body, flags=re.MULTILINE)
    return (
        "# Benchmarks\n\n"
        'This page is the README\'s "Performance" section, included when the '
        "site is built.\n\n" + body
    )


def catalog_page() -> str:
    """`keras-components catalog --format markdown`, run in this process."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import keras_components_cli

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = keras_components_cli.main(["catalog", "--format", "markdown"])
    if status != 0 or not out.getvalue().strip():
        raise PluginError(f"keras-components catalog exited with status {status}")
    return unescape_code_pipes(out.getvalue())


def unescape_code_pipes(markdown: str) -> str:
    r"""`\|` inside a table's code spans becomes `|`.

    GitHub needs the escape there and drops the backslash; Python-Markdown
    already leaves a code span's pipes alone and would show the backslash.
    """
    return re.sub(
        r"`[^`\n]*`",
        lambda span: span.group(0).replace("\\|", "|"),
        markdown,
    )


def gallery_pictures(docs_dir: Path) -> dict[str, list[str]]:
    """The PNGs of each gallery folder, as paths relative to `docs_dir`."""
    return {
        folder: sorted(
            path.relative_to(docs_dir).as_posix()
            for path in (docs_dir / folder).rglob("*.png")
        )
        for folder in GALLERY_FOLDERS
    }


def caption(path: str) -> str:
    """A picture's caption: its file name (the folder below the gallery too)."""
    return path.split("/", 1)[1]


def gallery_page(docs_dir: Path) -> str:
    """The gallery: every picture, captioned by its file name."""
    lines = [
        "# Gallery",
        "",
        "The pictures the demo and the examples produce, as committed under "
        "`docs/images/` and `docs/gallery/`.",
    ]
    for folder, paths in gallery_pictures(docs_dir).items():
        lines += ["", f"## {GALLERY_FOLDERS[folder]}", ""]
        if not paths:
            lines.append("No pictures yet.")
        for path in paths:
            name = html.escape(caption(path))
            lines += [
                '<figure markdown="span">',
                f"  ![{name}](<{path}>)",
                f"  <figcaption>{name}</figcaption>",
                "</figure>",
                "",
            ]
    return "\n".join(lines).rstrip() + "\n"


def toplevel_table() -> str:
    """The names `keras_components` exports, linked to their reference entry."""
    import keras_components

    rows = ["| name | defined in |", "|---|---|"]
    for name in keras_components.__all__:
        obj = getattr(keras_components, name)
        if name == "__version__":
            rows.append(f"| `{name}` | the package version, `{obj}` |")
        elif getattr(obj, "__name__", None) in API_PAGES:
            rows.append(f"| `{name}` | [`{obj.__name__}`]({API_PAGES[obj.__name__]}) |")
        else:
            module = next(
                (
                    module
                    for module in API_PAGES
                    if getattr(sys.modules.get(module), name, None) is obj
                ),
                None,
            )
            if module is None:
                raise PluginError(
                    f"keras_components.{name} is in no documented module "
                    f"({', '.join(API_PAGES)})"
                )
            rows.append(f"| `{name}` | [`{module}.{name}`][{module}.{name}] |")
    return "\n".join(rows) + "\n"


def on_files(files, config):
    """Adds the generated pages (catalog, benchmarks, gallery)."""
    docs_dir = Path(config["docs_dir"])
    readme = _readme()
    for name, content in (
        ("catalog.md", catalog_page()),
        ("benchmarks.md", benchmarks_page(readme)),
        ("gallery.md", gallery_page(docs_dir)),
    ):
        if files.get_file_from_path(name) is not None:
            raise PluginError(f"docs/{name} is generated: remove the committed file")
        files.append(File.generated(config, name, content=content))
    return files


def on_page_markdown(markdown, page, config, files):
    """Fills the markers of the home page and the API overview."""
    if QUICKSTART_MARKER in markdown:
        markdown = markdown.replace(QUICKSTART_MARKER, readme_quickstart(_readme()))
    if TOPLEVEL_MARKER in markdown:
        markdown = markdown.replace(TOPLEVEL_MARKER, toplevel_table())
    return markdown
