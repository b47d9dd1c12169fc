"""The repository stands alone: a clone with nothing beside it has everything its tests, docs and demo read.

No file names a path outside the repository: not the team handbook beside the team's own checkouts, not a
`Path(__file__).parents[N]` that climbs above the root, not a Markdown link that leaves the tree or points nowhere.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEXT_SUFFIXES = {".py", ".md", ".json", ".yaml", ".yml", ".toml", ".txt", ".bicep", ".sh", ".cfg", ".ini", ""}
# Built from pieces so that this file does not match itself.
HANDBOOK = re.compile("|".join([re.escape("../" + "shared"), "DESIGN" + r"\.md", "AKS" + "_FACTS", "STYLE" + r"\.md"]))
PARENTS = re.compile(r"__file__\)\.resolve\(\)\.parents\[(\d+)\]")
MD_LINK = re.compile(r"\]\(([^)\s#]+)(?:#[^)]*)?\)")


def repo_files() -> list[Path]:
    """What a clone holds: git's list when there is a repository, else the tree without installed things."""
    try:
        out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
        names = [n for n in out.decode().split("\0") if n]
    except (OSError, subprocess.CalledProcessError):
        skip = {".git", ".venv", ".venv-checkov", ".venv-azcli", "node_modules", ".pytest_cache", ".ruff_cache"}
        names = [str(p.relative_to(ROOT)) for p in ROOT.rglob("*") if p.is_file() and not skip & set(p.parts)]
    return [ROOT / n for n in names if (ROOT / n).suffix in TEXT_SUFFIXES and (ROOT / n).is_file()]


FILES = repo_files()


def test_the_repository_lists_its_files():
    assert len(FILES) > 100


def test_no_file_names_the_team_handbook_beside_the_repository():
    offenders = [f"{f.relative_to(ROOT)}:{n}: {line.strip()}"
                 for f in FILES for n, line in enumerate(f.read_text(errors="replace").splitlines(), 1)
                 if HANDBOOK.search(line)]
    assert offenders == []


def test_no_python_file_climbs_above_the_repository_root():
    offenders = []
    for f in (f for f in FILES if f.suffix == ".py"):
        depth = len(f.relative_to(ROOT).parts)  # parents[depth - 1] is the root; parents[depth] is outside
        for match in PARENTS.finditer(f.read_text()):
            if int(match.group(1)) >= depth:
                offenders.append(f"{f.relative_to(ROOT)}: parents[{match.group(1)}]")
    assert offenders == []


@pytest.mark.parametrize("doc", [f for f in FILES if f.suffix == ".md"], ids=lambda f: str(f.relative_to(ROOT)))
def test_every_relative_markdown_link_points_at_a_file_inside_the_repository(doc: Path):
    broken = []
    for target in MD_LINK.findall(doc.read_text()):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto: ...
            continue
        resolved = (doc.parent / target).resolve()
        if not resolved.is_relative_to(ROOT) or not resolved.exists():
            broken.append(target)
    assert broken == []
