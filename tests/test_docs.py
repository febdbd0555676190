"""The docs: generated results tables match the committed reports, links resolve, README stays a front door."""
from __future__ import annotations

import copy
import re
import subprocess
import sys
from pathlib import Path

import pytest

from reward_demo import docs_tables

ROOT = Path(__file__).resolve().parent.parent
DOCS = docs_tables.doc_files(ROOT)
#: one screenshot per tab (``python -m reward_demo.ui.screenshots`` remakes them)
SCREENSHOTS = ("assets/screenshots/maze.png", "assets/screenshots/locomotion.png", "assets/screenshots/images.png")
FRONT_MATTER = """---
title: Reward Demo
emoji: 🧭
colorFrom: indigo
colorTo: green
sdk: gradio
sdk_version: 6.31.0
python_version: "3.11"
app_file: app.py
pinned: false
---
"""
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
PAGES = ["method.md", "maze.md", "locomotion.md", "images.md", "development.md", "deployment.md", "research-log.md"]
DOMAIN_HEADINGS = ["## Models", "## How to reproduce", "## Shipped configuration", "## Evaluation protocol",
                   "## Results", "## The tab"]


def test_generated_blocks_match_the_committed_reports():
    stale = docs_tables.stale_files(ROOT)
    assert not stale, (f"generated blocks differ from assets/*.json in {[str(p.relative_to(ROOT)) for p in stale]}; "
                       "run `python -m reward_demo docs render`")


def test_every_renderer_is_used_and_every_block_is_known():
    used = set()
    for path in DOCS:
        for match in docs_tables.BLOCK.finditer(path.read_text(encoding="utf-8")):
            assert match.group("name") in docs_tables.RENDERERS, f"{path.name}: unknown block {match.group('name')}"
            used.add(match.group("name"))
    assert used == set(docs_tables.RENDERERS)


def test_a_changed_report_changes_the_rendered_block(tmp_path):
    reports = docs_tables.load_reports(ROOT / "assets")
    text = "a\n<!-- generated: maze-results -->\nold\n<!-- /generated -->\nb\n"
    rendered = docs_tables.render_blocks(text, reports)
    assert rendered.startswith("a\n<!-- generated: maze-results -->\n| maze |") and rendered.endswith(
        "\n<!-- /generated -->\nb\n")
    assert docs_tables.render_blocks(rendered, reports) == rendered
    reports["maze"]["mazes"][0]["summary"]["spearman_median"] = 0.5
    changed = docs_tables.render_blocks(rendered, reports)
    assert "**0.500**" in changed and changed != rendered


def test_unknown_block_names_are_an_error():
    with pytest.raises(ValueError, match="unknown generated block"):
        docs_tables.render_blocks("<!-- generated: nope -->\n<!-- /generated -->", {})


def test_expert_planner_column_comes_from_the_report_only():
    reports = docs_tables.load_reports(ROOT / "assets")
    loco = reports["locomotion"]
    rows = docs_tables.locomotion_results(reports).splitlines()[2:]
    # each env's paper-reward evaluation, then the on-policy extension's where there is one
    evaluations = [ev for env, paper in loco["evaluation"].items()
                   for ev in [paper] + ([loco["extension"][env]] if env in loco.get("extension", {}) else [])]
    assert len(rows) == len(evaluations)
    for ev, row in zip(evaluations, rows):
        planner = ev.get("expert_planner")
        expected = docs_tables.mean_se(planner["score"]) if planner else docs_tables.MISSING
        cells = row.split(" | ")
        assert cells[9] == expected
        assert cells[1] == (ev.get("reward") or {}).get("name", "unknown")  # runs before --reward: unknown


def test_chain_score_rows_come_beside_the_papers_figures():
    reports = docs_tables.load_reports(ROOT / "assets")
    ev = copy.deepcopy(reports["images"])  # the report as it would be without the extension
    parts = [ev, ev.get("heldout_recorded_prompts") or {}, ev.get("seed_mean") or {}, *ev.get("training_seeds", [])]
    for part in parts:
        part.pop("chain_score", None)
    without = docs_tables.images_results({**reports, "images": ev})
    assert "chain score" not in without and docs_tables.chain_score_rows(ev) == []
    ev["chain_score"] = {"b_prompt_auroc": 0.9312, "ci95": {"b_prompt_auroc": [0.9, 0.96]}, "threshold": -33.1,
                         "half_width": 0.2, "b_decided_balanced_accuracy": 0.8761, "uncertain_fraction": 0.1}
    with_chain = docs_tables.images_results({**reports, "images": ev})
    paper_rows = without.splitlines()
    assert with_chain.splitlines()[:len(paper_rows)] == paper_rows  # the paper's rows first, unchanged
    assert ("chain score** (the mean of r over the SD chain's latents): (b) AUROC |  | 0.931 (0.900-0.960)"
            in with_chain)
    assert "0.876 (10 % uncertain)" in with_chain and "threshold -33.100" in with_chain
    # the README's glance: the paper's figures and verdict first, the extension after them, named as such
    assert docs_tables.chain_glance(ev) == ""
    ev["seed_mean"] = {**(ev.get("seed_mean") or {}),
                       "chain_score": {"b_prompt_auroc": 0.94, "b_decided_balanced_accuracy": 0.88}}
    (images_row,) = [line for line in docs_tables.results_at_a_glance({**reports, "images": ev}).splitlines()
                     if line.startswith("| Images")]
    paper, extension = images_row.rstrip(" |").split("; this project's chain score")
    assert re.search(r": \*\*met( in \d of \d)?\*\*$", paper)
    assert extension == " (an extension, not the paper's): (b) 0.940, verdict 0.880"


def test_maze_goal_counts_are_distinct_goals():
    reports = docs_tables.load_reports(ROOT / "assets")
    glance = docs_tables.results_at_a_glance(reports)
    for maze in reports["maze"]["mazes"]:
        distinct = len({tuple(g["goal"]) for g in maze["goals"]})
        assert f"{len(maze['goals'])} ({distinct})" in glance


def test_readme_is_a_front_door():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 220
    assert text.startswith(FRONT_MATTER)
    assert "pip install -r requirements.txt && python app.py" in text
    assert "bash tests/test.sh" in text
    for shot in SCREENSHOTS:
        assert f"]({shot})" in text and (ROOT / shot).is_file()
    for page in PAGES:
        assert f"(docs/{page})" in text, f"README does not link docs/{page}"


@pytest.mark.parametrize("page", ["maze.md", "locomotion.md", "images.md"])
def test_domain_pages_share_their_headings(page):
    headings = [line for line in (ROOT / "docs" / page).read_text(encoding="utf-8").splitlines()
                if line.startswith("## ")]
    assert headings == DOMAIN_HEADINGS


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(path: Path) -> set:
    return {slug(line.lstrip("#")) for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("#")}


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_relative_links_resolve(path):
    missing = []
    for target in LINK.findall(path.read_text(encoding="utf-8")):
        if re.match(r"[a-z]+:", target):
            continue
        file, _, anchor = target.partition("#")
        resolved = (path.parent / file).resolve() if file else path
        if not resolved.exists():
            missing.append(target)
        elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
            missing.append(target)
    assert not missing, f"{path.name}: broken links {missing}"


def test_claims_match_the_protocol():
    for path in DOCS:
        text = path.read_text(encoding="utf-8")
        assert "never chosen on" not in text, path.name
        for line in text.splitlines():
            assert not re.search(r"\b16 goals\b", line), f"{path.name}: goal counts give distinct goals: {line}"


@pytest.mark.slow
def test_docs_command_checks():
    out = subprocess.run([sys.executable, "-m", "reward_demo", "docs", "render", "--check"], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "up to date" in out.stdout
