"""Privacy by default (small special-group counts suppressed for non-staff) and the hardened HTTP surface:
security headers, CSP by hash, Swagger UI and ReDoc from local files."""

from __future__ import annotations

import json
import re

from fastapi.testclient import TestClient

from api.app import create_app
from geogrid.accounts.privacy import suppress
from geogrid.model import SPECIAL_GROUPS


def _small_cells(answer: dict) -> list[tuple[str, str, int]]:
    """(grid, group, count) for each special-group count from 1 to 4 in an answer's grids."""
    return [
        (g["code"], k, g[k])
        for g in answer["grids"]
        for k in SPECIAL_GROUPS
        if isinstance(g.get(k), int) and 0 < g[k] < 5
    ]


def test_coverage_suppresses_small_counts_for_non_staff(demo_city, client_as):
    staff = client_as("community_staff").get("/coverage", params={"mode": "circle"}).json()
    small = _small_cells(staff)
    assert small, "the demo city has grids with 1-4 people of a special group"
    public = TestClient(create_app()).get("/coverage", params={"mode": "circle"}).json()
    assert _small_cells(public) == []
    by_code = {g["code"]: g for g in public["grids"]}
    for code, group, _ in small:
        assert by_code[code][group] is None and by_code[code][f"{group}_covered"] is None
        assert by_code[code]["suppressed"] is True
    for role in ("viewer", "api_client", "planner"):
        assert _small_cells(client_as(role).get("/coverage", params={"mode": "circle"}).json()) == []
    # Counts of 0 and of 5 or more are kept; households and residents are never suppressed.
    kept = [(g["code"], k) for g in staff["grids"] for k in SPECIAL_GROUPS if g[k] == 0 or g[k] >= 5]
    assert all(by_code[c][k] == next(g for g in staff["grids"] if g["code"] == c)[k] for c, k in kept)
    print(f"\nsuppressed {len(small)} small special-group cells of {len(staff['grids'])} grids")


def test_suppression_threshold_is_a_setting():
    row = {"elderly_alone": 4, "elderly_alone_covered": 4, "elderly_alone_share": 1.0, "disabled": 0, "hardship": 9}
    assert suppress(dict(row), 1) == 0
    hidden = dict(row)
    assert suppress(hidden, 5) == 3 and hidden["elderly_alone"] is None and hidden["hardship"] == 9
    # a covered count below the threshold gives the small number back by difference: suppressed too
    derived = {"hardship": 9, "hardship_covered": 2, "hardship_share": 0.22}
    suppress(derived, 5)
    assert derived["hardship"] is None and derived["hardship_covered"] is None


def test_security_headers_and_csp_by_hash(demo_city):
    client = TestClient(create_app())
    r = client.get("/maps/coverage")
    assert r.status_code == 200
    csp = r.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    inline = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", r.text)
    assert inline and csp.count("'sha256-") >= 1
    assert r.headers["x-content-type-options"] == "nosniff"
    assert client.get("/grids").headers["x-frame-options"] == "DENY"


def test_docs_are_served_from_local_files(empty_db):
    client = TestClient(create_app())
    for page in ("/docs", "/redoc"):
        html = client.get(page).text
        sources = re.findall(r'(?:src|href)="([^"]+)"', html)
        assert sources and all(s.startswith("/") for s in sources), sources
        assert "<script>" not in html  # no inline script
        for s in sources:
            assert client.get(s).status_code == 200, s
    assert client.get("/docs/static/../../app.py").status_code == 404


def test_every_reference_in_the_openapi_document_resolves(empty_db):
    """ReDoc stops at the first reference it cannot follow ("Invalid reference token"): none may dangle."""
    spec = TestClient(create_app()).get("/openapi.json").json()
    refs = set(re.findall(r'"\$ref":\s*"([^"]+)"', json.dumps(spec)))
    dangling = []
    for ref in refs:
        node = spec
        for part in ref.removeprefix("#/").split("/"):
            node = node.get(part) if isinstance(node, dict) else None
        if not ref.startswith("#/") or node is None:
            dangling.append(ref)
    assert refs and dangling == []


def test_an_unexpected_failure_still_carries_the_security_headers(empty_db):
    """A 500 is answered by Starlette's outermost error handler: it must not leave without nosniff and the CSP."""
    app = create_app()

    @app.get("/maps/broken")  # a public family (PREFIX_RULES): reaches the handler without signing in
    def broken() -> dict:
        raise RuntimeError("a bug")

    r = TestClient(app, raise_server_exceptions=False).get("/maps/broken")
    assert r.status_code == 500
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    refused = TestClient(app, base_url="http://attacker.example").get("/health")  # the host check's answer too
    assert refused.status_code == 400 and refused.headers["x-content-type-options"] == "nosniff"
