"""The documentation site's hooks (``hooks:`` in mkdocs.yml): the home page is README.md,
headings get GitHub's anchors, and the API pages show docstrings' Sphinx roles as code.

README.md sits beside docs/ and links into it (``docs/cli.md``); on the site it is the page
``index.md`` at the top of docs/, so those links lose their ``docs/`` prefix. One file is the
source of both the repository's front page and the site's. The pages link to headings by the
anchors GitHub gives them; the site's table of contents makes the same ones. The docstrings
name objects with Sphinx roles (``:func:`solve```), which mkdocstrings leaves as text: the API
pages drop the role and keep the name as code.
"""

import re
from pathlib import Path
from typing import Any

README = Path(__file__).resolve().parent / "README.md"

#: a Markdown link or image target starting with docs/: ``](docs/...)``
_DOCS_LINK = re.compile(r"\]\(docs/")
#: a Sphinx role before an inline code span, as mkdocstrings renders it
_ROLE = re.compile(r":(?:attr|class|func|meth|mod):(?=<code>)")
#: what GitHub drops from a heading's text to make its anchor
_NOT_IN_SLUG = re.compile(r"[^\w\- ]")


def github_slug(text: str, separator: str = "-") -> str:
    """A heading's anchor as GitHub makes it: lower case, punctuation dropped, spaces to dashes.

    Parameters
    ----------
    text : str
        The heading's text, without markup.
    separator : str
        Unused: GitHub always joins words with ``-`` (the signature Markdown's toc expects).

    Returns
    -------
    str
        ``"summary.json and --json"`` gives ``"summaryjson-and---json"``.
    """
    return _NOT_IN_SLUG.sub("", text.strip().lower()).replace(" ", "-")


def readme_as_index(text: str) -> str:
    """README.md's text with its links into docs/ made relative to docs/ itself.

    Parameters
    ----------
    text : str
        The Markdown of README.md.

    Returns
    -------
    str
        The same text, every ``](docs/`` replaced by ``](``.
    """
    return _DOCS_LINK.sub("](", text)


def drop_roles(html: str) -> str:
    """``html`` without the Sphinx roles before its inline code: ``:func:<code>solve</code>``
    becomes ``<code>solve</code>``.

    Parameters
    ----------
    html : str
        A rendered page.

    Returns
    -------
    str
        The page, each role before a ``<code>`` removed.
    """
    return _ROLE.sub("", html)


def on_page_content(html: str, page: Any, config: Any, files: Any) -> str:
    """The API pages' docstrings without Sphinx roles (:func:`drop_roles`)."""
    return drop_roles(html) if page.file.src_uri.startswith("api/") else html


def on_config(config: Any) -> Any:
    """Make the table of contents slug headings as GitHub does."""
    config["mdx_configs"].setdefault("toc", {})["slugify"] = github_slug
    return config


def on_files(files: Any, config: Any) -> Any:
    """Add the generated home page ``index.md`` (README.md, its links rewritten)."""
    from mkdocs.structure.files import File  # here: the tests import this module without mkdocs

    files.append(File.generated(config, "index.md",
                                content=readme_as_index(README.read_text("utf-8"))))
    return files
