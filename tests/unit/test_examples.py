"""The request examples the docs point at are real: each validates with no errors and plans."""

from __future__ import annotations

import json
import pathlib
import re

import pytest

from shared.services.planning import plan_request
from tests.requests import SUB

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "docs" / "examples").glob("*.json"))
# The setups the docs promise an example of (docs/request.md, docs/local.md).
PROMISED = {"production", "development", "gpu", "spot-batch", "windows", "private-endpoints"}


def _request_md_examples() -> list[str]:
    text = (ROOT / "docs" / "request.md").read_text()
    return re.findall(r"^```json\n(.*?)^```", text, flags=re.M | re.S)


def test_every_promised_setup_has_an_example():
    assert {p.stem for p in EXAMPLES} >= PROMISED


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_every_example_validates_without_errors_and_plans(path):
    raw = json.loads(path.read_text())
    outcome = plan_request(raw, default_subscription_id=SUB)
    assert outcome.errors == []
    assert outcome.plan is not None
    # an example shows the right way: an Entra-integrated one grants someone access (rule ENTRA_NO_ADMIN)
    assert "ENTRA_NO_ADMIN" not in {w.code for w in outcome.warnings}
    cluster = next(r for r in outcome.plan.resources if r.type == "Microsoft.ContainerService/managedClusters")
    pools = cluster.body["properties"]["agentPoolProfiles"]
    assert [p["name"] for p in pools] == [p.name for p in outcome.plan.request.pools]
    assert cluster.body["properties"]["kubernetesVersion"] == raw.get("kubernetesVersion", "1.33")


def test_the_request_in_docs_request_md_validates_without_errors_and_plans():
    blocks = _request_md_examples()
    assert blocks, "docs/request.md shows a request as a json block"
    for block in blocks:
        outcome = plan_request(json.loads(block), default_subscription_id=SUB)
        assert outcome.errors == [] and outcome.plan is not None


@pytest.mark.parametrize("doc", ["local.md", "request.md", "README.md"])
def test_every_example_a_doc_names_exists(doc):
    text = (ROOT / "docs" / doc).read_text()
    named = set(re.findall(r"examples/([a-z0-9-]+\.json)", text))
    assert named, f"docs/{doc} names its request examples"
    assert named <= {p.name for p in EXAMPLES}


@pytest.mark.parametrize("doc", ["README.md", "request.md", "local.md"])
def test_every_example_is_linked_from_the_docs_that_list_them(doc):
    """New-user review: docs/README.md left out two examples and request.md one; each of these lists them all."""
    text = (ROOT / "docs" / doc).read_text()
    linked = set(re.findall(r"\]\(examples/([a-z0-9-]+\.json)\)", text))
    assert {p.name for p in EXAMPLES} - linked == set()
