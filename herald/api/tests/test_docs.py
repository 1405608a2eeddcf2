"""The human docs pages, the JSON index and the OpenAPI schema."""

from herald.api.v2 import urls as v2_urls
from herald.api.v2.base import DOCS_DIR
from herald.api.v2.registry import ALIASES, ENDPOINTS


def test_api_root_redirects_to_v2(anon):
    response = anon.get("/api/")
    assert response.status_code == 302
    assert response["Location"] == "/api/v2/"


def test_root_docs_page_is_public_html(anon):
    response = anon.get("/api/v2/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert b"Authorization: Token" in response.content


def test_each_endpoint_has_a_public_docs_page(anon):
    for endpoint in ENDPOINTS:
        response = anon.get(f"/api/v2/{endpoint.endpoint_name}")
        assert response.status_code == 200, endpoint.endpoint_name
        assert f"/api/v2/{endpoint.endpoint_name}.json".encode() in response.content


def test_post_to_a_docs_url_is_refused_with_the_docs(anon, admin):
    response = admin.post("/api/v2/broadcasts", {"text": "hi"}, format="json")
    assert response.status_code == 403
    assert b"/api/v2/broadcasts.json" in response.content


def test_index_lists_absolute_endpoint_urls(anon):
    response = anon.get("/api/v2/.json")
    assert response.status_code == 200
    index = response.json()
    assert index["broadcasts"] == "http://testserver/api/v2/broadcasts"
    assert set(index) == {e.endpoint_name for e in ENDPOINTS}


def test_the_index_lists_exactly_the_endpoints_the_urlconf_serves(anon, admin):
    # Derived from the URLconf, not from a list here: an endpoint added to the registry is checked as it comes.
    served = {
        pattern.name.removeprefix("api.v2.")
        for pattern in v2_urls.urlpatterns
        if pattern.name and str(pattern.pattern).endswith(".json")
    }
    index = anon.get("/api/v2/.json").json()
    # openapi.json is the schema of the others, older names are aliases: neither is an endpoint of its own.
    assert set(index) == served - {"openapi", *ALIASES} == {e.endpoint_name for e in ENDPOINTS}
    for name, docs_url in index.items():
        assert anon.get(docs_url).status_code == 200, name
        # Each answers (405 for a method it lacks), none is a 404.
        assert admin.get(f"/api/v2/{name}.json").status_code in (200, 405), name


def test_json_suffix_with_trailing_slash_also_answers(admin):
    assert admin.get("/api/v2/workspace.json/").status_code == 200


def test_other_suffixes_and_bare_slash_are_404(admin):
    assert admin.get("/api/v2/workspace.xml").status_code == 404
    assert admin.get("/api/v2/workspace/").status_code == 404


def test_openapi_schema_describes_every_endpoint(anon):
    response = anon.get("/api/v2/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    for endpoint in ENDPOINTS:
        assert f"/api/v2/{endpoint.endpoint_name}.json" in schema["paths"], endpoint.endpoint_name


def test_each_endpoint_page_and_its_openapi_description_come_from_its_markdown_file(anon):
    schema = anon.get("/api/v2/openapi.json").json()
    for endpoint in ENDPOINTS:
        name = endpoint.endpoint_name
        page = (DOCS_DIR / f"{name}.md").read_text(encoding="utf-8").strip()
        # The page's first heading, rendered, is on the HTML page; the whole text is the OpenAPI description.
        heading = next(line for line in page.splitlines() if line.startswith("## "))
        assert f"<h2>{heading[3:]}</h2>".encode() in anon.get(f"/api/v2/{name}").content, name
        for operation in schema["paths"][f"/api/v2/{name}.json"].values():
            assert operation["description"] == page, name
        # The class keeps a two-line docstring: the long text lives in the Markdown file only.
        assert len(endpoint.__doc__.strip().splitlines()) <= 3, name


def test_each_declared_list_filter_is_an_openapi_parameter_and_on_the_docs_page(anon):
    schema = anon.get("/api/v2/openapi.json").json()
    for endpoint in ENDPOINTS:
        declared = {f.name: f for f in getattr(endpoint, "list_filters", [])}
        if not declared:
            continue
        listing = schema["paths"][f"/api/v2/{endpoint.endpoint_name}.json"]["get"]
        query = {p["name"]: p for p in listing["parameters"] if p["in"] == "query"}
        # The paging cursor is the pagination's; every other query parameter is a declared filter.
        assert set(query) - {"cursor"} == set(declared), endpoint.endpoint_name
        for name, list_filter in declared.items():
            assert query[name]["description"] == list_filter.description, (endpoint.endpoint_name, name)
            assert f"**{name}**" in endpoint.documentation(), (endpoint.endpoint_name, name)
