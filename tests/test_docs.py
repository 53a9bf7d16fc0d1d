"""The documentation's own checks: links that resolve, a short README, no machine paths.

Fast and without ROS. Four rules:

* **Index.** README.md links every page in docs/ and every picture there (at least two).

* **Links.** Every relative link and image in README.md and docs/*.md (``[text](target)``,
  outside fenced code blocks and inline code) names a file that exists in the repository, and
  every ``#anchor`` (in the same file, or ``file.md#anchor``) matches a heading of its target
  file under GitHub's slug rules: the heading's text lower-cased, every character that is not a
  letter, digit, space, ``-`` or ``_`` removed, spaces turned into ``-``, and ``-1``, ``-2``, ...
  appended to repeated slugs. Links with a scheme (``https:``, ``mailto:``) are not checked.
* **Length.** README.md has at most ``README_MAX_LINES`` lines; the rest lives in docs/.
* **No machine paths.** No tracked text file (``git ls-files``; files with a NUL byte in their
  first 8 KiB or that are not UTF-8 are skipped, and so are links) names an absolute path on a
  particular machine: a path that starts at a word boundary (line start, a space, a quote,
  ``=``, ``(``, a backtick, ...; not after a letter, digit, ``.``, ``~``, ``:``, ``/``, ``$``
  or ``-``, so URLs such as ``https://host/home/...``, relative paths such as ``x/data/y``,
  ``~/...`` and ``$HOME/...`` never match) with one of the top-level directories in
  ``MACHINE_ROOTS`` (home and user directories, mounts, site-specific data and work trees, and
  the system's variable and configuration trees) followed by a ``/`` and a name. System paths
  that are the same on every machine (under ``usr``, ``opt``, ``tmp``, ``proc``, ``dev``,
  ``sys``, ``bin``, ``lib``) are allowed, and so are ROS names (``/tf``, ``/camera/...``,
  ``/humans/...``), which do not start with those directories. ``ALLOWED_PATHS`` lists the
  few made-up example paths the code uses as test data, each with its reason. Describe an
  outside resource instead of citing where it lies on one machine (e.g. "a checkout of the
  official code").
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README_MAX_LINES = 450

# Top-level directories whose contents differ from machine to machine. No leading slash here,
# so that this file does not match its own pattern.
MACHINE_ROOTS = (
    "home", "root", "Users", "work", "workspace", "workspaces", "mnt", "media", "Volumes",
    "data", "datasets", "scratch", "srv", "var", "etc", "nfs", "net", "private", "builds",
    "github", "content", "kaggle", "shared", "run",
)  # fmt: skip
# Example paths in tracked files that name no real machine, with the reason each is fine.
ALLOWED_PATHS = {
    "/var/cache/pymafx": "a made-up PYMAFX_CACHE_DIR in a test of the build command's text",
}
MACHINE_PATH = re.compile(
    r"(?<![\w.~:/$\\-])/(?:" + "|".join(MACHINE_ROOTS) + r")/[\w.@%+-]+(?:/[\w.@%+-]+)*"
)

LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
FENCE = re.compile(r"^\s*(```|~~~)")
# A code span: a run of backticks up to the next equal run, across line breaks but not across
# a blank line.
INLINE_CODE = re.compile(r"(`+)(?:(?!\1)(?:[^\n]|\n(?![ \t]*\n)))+?\1")
HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def _prose_lines(text: str) -> list[str]:
    """The lines outside fenced code blocks ("" for the fenced ones, so numbers stay)."""
    lines, fenced = [], False
    for line in text.splitlines():
        if FENCE.match(line):
            fenced = not fenced
            lines.append("")
            continue
        lines.append("" if fenced else line)
    return lines


def github_slug(heading: str) -> str:
    """GitHub's anchor for a heading's text (markdown links reduced to their text)."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(text: str) -> set[str]:
    """Every heading anchor of a markdown text, repeated slugs numbered as GitHub does."""
    seen: dict[str, int] = {}
    result = set()
    for line in _prose_lines(text):
        match = HEADING.match(line)
        if not match:
            continue
        slug = github_slug(match.group(2))
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        result.add(slug if count == 0 else f"{slug}-{count}")
    return result


def links(text: str) -> list[tuple[int, str]]:
    """(line number, target) of every link and image outside code."""
    prose = "\n".join(_prose_lines(text))
    prose = INLINE_CODE.sub(lambda m: "code" + "\n" * m.group(0).count("\n"), prose)
    found = []
    for number, line in enumerate(prose.split("\n"), start=1):
        for match in LINK.finditer(line):
            found.append((number, match.group(1)))
    return found


def broken_links(path: Path, root: Path = ROOT) -> list[str]:
    """What is wrong with the links of one markdown file, one line per broken link."""
    problems = []
    for number, target in links(path.read_text(encoding="utf-8")):
        if SCHEME.match(target) or target.startswith("//"):
            continue
        file_part, _, anchor = target.partition("#")
        where = f"{path.relative_to(root)}:{number}: {target}"
        if file_part.startswith("/"):
            problems.append(f"{where}: absolute link (use a path relative to the file)")
            continue
        linked = (path.parent / file_part).resolve() if file_part else path
        if not linked.exists():
            problems.append(f"{where}: no such file")
            continue
        try:
            linked.relative_to(root)
        except ValueError:
            problems.append(f"{where}: outside the repository")
            continue
        if anchor:
            if linked.suffix != ".md" or not linked.is_file():
                problems.append(f"{where}: an anchor into a file that is not markdown")
            elif anchor not in anchors(linked.read_text(encoding="utf-8")):
                problems.append(f"{where}: no heading with anchor #{anchor}")
    return problems


def machine_paths(text: str) -> list[str]:
    """The machine-specific absolute paths a text names (ALLOWED_PATHS left out)."""
    return [p for p in MACHINE_PATH.findall(text) if p.rstrip(".") not in ALLOWED_PATHS]


def _markdown_files() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _tracked_text_files() -> list[Path]:
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout (or no git): the tracked files are unknown")
    files = []
    for name in listed.decode().split("\0"):
        path = ROOT / name
        if not name or path.is_symlink() or not path.is_file():
            continue
        data = path.read_bytes()
        if b"\0" in data[:8192]:
            continue
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            continue
        files.append(path)
    return files


def test_docs_folder_holds_the_pages_and_the_pictures_the_readme_links():
    pages = {p.name for p in _markdown_files()[1:]}
    assert pages, "docs/*.md is missing"
    readme_links = {t.partition("#")[0] for _, t in links((ROOT / "README.md").read_text())}
    for page in pages:
        assert f"docs/{page}" in readme_links, f"README.md does not link docs/{page}"
    pictures = sorted((ROOT / "docs").glob("*.png"))
    assert len(pictures) >= 2, pictures
    for picture in pictures:  # the pictures live in docs/ and the README links each of them
        assert f"docs/{picture.name}" in readme_links, f"README.md does not link {picture.name}"


@pytest.mark.parametrize("page", _markdown_files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_relative_link_and_anchor_resolves(page):
    problems = broken_links(page)
    assert not problems, "\n".join(problems)


def test_readme_is_short():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines"


def test_no_tracked_file_names_a_path_on_a_particular_machine():
    found = []
    for path in _tracked_text_files():
        text = path.read_text(encoding="utf-8")
        for number, line in enumerate(text.splitlines(), start=1):
            found += [f"{path.relative_to(ROOT)}:{number}: {p}" for p in machine_paths(line)]
    assert not found, "describe these instead of where they lie on one machine:\n" + "\n".join(
        found
    )


# The checks themselves: each must fail on a planted mistake.


def test_slugs_follow_githubs_rules():
    assert github_slug("GPU (CUDA and TensorRT)") == "gpu-cuda-and-tensorrt"
    assert github_slug("On a machine without ROS: `make setup`") == (
        "on-a-machine-without-ros-make-setup"
    )
    assert github_slug("With a ROS 2 distribution (Jazzy, Kilted)") == (
        "with-a-ros-2-distribution-jazzy-kilted"
    )
    assert github_slug("snake_case and-dash") == "snake_case-and-dash"
    assert anchors("# A\n## A\n```\n# not a heading\n```\n## B\n") == {"a", "a-1", "b"}


def test_broken_links_are_found(tmp_path):
    root = tmp_path / "repo"
    (root / "docs").mkdir(parents=True)
    (root / "docs" / "page.md").write_text("# Page\n\n## Section one\n")
    readme = root / "README.md"
    readme.write_text(
        "# Top\n\n## Here\n\n"
        "[ok](docs/page.md) [ok](docs/page.md#section-one) [ok](#here) [web](https://x.org/a)\n"
        "`[in code](missing.md)`, `a code span\nover two lines [x](missing.md)`\n"
        "```\n[fenced](missing.md)\n```\n"
        "[gone](docs/missing.md) [bad](docs/page.md#section-two) ![pic](#nowhere)\n"
        "[up](../outside.md)\n"
    )
    (tmp_path / "outside.md").write_text("# Outside\n")
    problems = broken_links(readme, root=root)
    assert [p.split(": ", 1)[1] for p in problems] == [
        "docs/missing.md: no such file",
        "docs/page.md#section-two: no heading with anchor #section-two",
        "#nowhere: no heading with anchor #nowhere",
        "../outside.md: outside the repository",
    ]


# "@" stands for the slash that starts a path, so that this file itself names no machine path.
@pytest.mark.parametrize(
    "text",
    [
        "see @work/official/bench.py",
        "--official=@home/alice/pymafx",
        'path = "@root/.cache/x"',
        "(@mnt/data/smplx)",
        "`@Users/bob/ws`",
        "@data/pymafx/checkpoint.pt",
        "cd @srv/models && ls",
        "log in @var/log/pymafx.log",
        "PYMAFX_CACHE_DIR=@etc/pymafx/cache",
    ],
)
def test_machine_paths_are_found(text):
    assert machine_paths(text.replace("@", "/")) != []


@pytest.mark.parametrize(
    "text",
    [
        "https://github.com/work/home/data/x",
        "ros2 topic echo /humans/bodies and /camera/camera/color/image_raw, /tf, /tf_static",
        "/pymafx/people; ~/.cache/pymafx_ros; $HOME/data/x; ros2_ws/src/data/x",
        "#!/usr/bin/env bash; /opt/ros/jazzy/setup.bash; /tmp/no-torch.txt; /proc/cpuinfo",
        "/dev/shm and /sys/class; a/work/b; file.var/etc/x; /home; /data",
        'monkeypatch.setenv("PYMAFX_CACHE_DIR", "/var/cache/pymafx")',
    ],
)
def test_other_paths_are_not_machine_paths(text):
    assert machine_paths(text) == []
