"""Where a web service is reachable (services[].route): at the environment's URL, under a path
prefix, at its own URL per environment, or internal only (checked from inside the platform).
Every URL a document builds for a service's health comes from its route (issue 17: shop-platform
verified three APIs at the storefront's URL)."""


import pytest
from conftest import PARAMS, file_variant

from opslib import ParamsError, load_params
from opslib.check.facts import inconsistencies
from opslib.documents import pipeline, runbook
from opslib.documents.commands import service_url
from opslib.params.status import check_status


def _service(data, name):
    return next(s for s in data["services"] if s["name"] == name)


def _problems(tmp_path, name, edit):
    with pytest.raises(ParamsError) as info:
        load_params(file_variant(tmp_path, name, edit))
    return info.value.problems


def test_shop_platform_apis_are_internal_and_the_storefront_public():
    params = load_params(PARAMS / "shop-platform.yaml")
    prod = params.production
    urls = {s.name: service_url(s, prod) for s in params.services if s.kind == "web"}
    assert urls == {"catalog-api": "", "orders-api": "", "payments-api": "", "storefront": "https://shop.example.com"}


def test_a_single_web_service_needs_no_route():
    params = load_params(PARAMS / "weather-api.yaml")
    web = next(s for s in params.services if s.kind == "web")
    assert web.route is None
    assert [web.url_in(e) for e in params.environments] == [e.url for e in params.environments]


def _routed(data):
    _service(data, "catalog-api")["route"] = {"path": "/api/catalog"}
    _service(data, "orders-api")["route"] = {"urls": {"dev": "https://orders.dev.shop.example.com",
                                                      "staging": "https://orders.staging.shop.example.com",
                                                      "prod": "https://orders.shop.example.com"}}


def test_public_routes_reach_every_document_that_checks_health(tmp_path):
    params = load_params(file_variant(tmp_path, "shop-platform", _routed))
    book = runbook.render_runbook(runbook.build(params, check_status(params)))
    assert "curl -i https://shop.example.com/api/catalog/healthz  # catalog-api" in book
    assert "curl -i https://orders.shop.example.com/healthz  # orders-api" in book
    assert "curl -sS -w '\\nHTTP %{http_code}\\n' https://orders.shop.example.com/healthz" in book  # the platform's verify steps
    assert not [m for _, m in inconsistencies(book, kind="markdown") if "same URL" in m]
    ci = pipeline.build(params)
    smoke = {e.name: {s.service: s.url for s in e.smoke} for e in ci.environments}
    assert smoke["staging"] == {"catalog-api": "https://staging.shop.example.com/api/catalog/healthz",
                                "orders-api": "https://orders.staging.shop.example.com/healthz",
                                "storefront": "https://staging.shop.example.com/api/health"}
    # payments-api stays internal: the deploy job checks it through a port-forward
    assert "port-forward service/payments-api 18080:8080" in ci.environments[0].smoke_command


def test_an_internal_service_is_checked_from_inside_the_platform():
    params = load_params(PARAMS / "shop-platform.yaml")
    book = runbook.render_runbook(runbook.build(params, check_status(params)))
    assert "https://shop.example.com/healthz" not in book
    assert "**Internal web services** (no public route: checked from inside the platform)" in book
    assert "port-forward service/\"${SERVICE}\" 18080:8080" in book


@pytest.mark.parametrize("edit, expected", [
    (lambda d: _service(d, "catalog-api").pop("route"),
     "services[5].route: missing; catalog-api is already served at the environment's URL, so give storefront a route"),
    (lambda d: _service(d, "catalog-api").__setitem__("route", {"path": "/api;rm -rf ~"}),
     "services[0].route.path: must be a path prefix such as /api/catalog"),
    (lambda d: _service(d, "catalog-api").__setitem__("route", {"path": "/-x$(id)"}),
     "services[0].route.path: must be a path prefix such as /api/catalog"),
    (lambda d: _service(d, "catalog-api").__setitem__("route", {"path": "/" + "a" * 300}),
     "services[0].route.path: string should have at most 200 characters"),
    (lambda d: _service(d, "catalog-api").__setitem__("route", {"path": "/api", "internal": True}),
     "services[0].route: set exactly one of path, urls or internal: true"),
    (lambda d: _service(d, "catalog-api").__setitem__("route", {"urls": {"dev": "https://c.example.com", "prod": "https://c.example.com",
                                                                          "qa": "https://q.example.com"}}),
     "services[0].route.urls: no URL for staging; qa is not an environment; give one URL for each of dev, staging, prod"),
    (lambda d: _service(d, "catalog-api").__setitem__("route", {"urls": {"dev": "https://c.example.com/$(reboot)",
                                                                          "staging": "https://c.example.com", "prod": "https://c.example.com"}}),
     "services[0].route.urls.dev: must be"),
    (lambda d: [_service(d, n).__setitem__("route", {"path": "/api"}) for n in ("catalog-api", "orders-api")],
     "services[1].route.path: catalog-api has the same path prefix; give each web service its own"),
    (lambda d: _service(d, "order-events").__setitem__("route", {"internal": True}),
     "services[3]: route applies to web services, not to a worker"),
])
def test_route_mistakes(tmp_path, edit, expected):
    problems = _problems(tmp_path, "shop-platform", edit)
    assert any(expected in p for p in problems), problems


def test_a_platform_without_internal_checks_refuses_an_internal_service(tmp_path):
    problems = _problems(tmp_path, "weather-api", lambda d: d["services"][0].__setitem__("route", {"internal": True}))
    assert any(p.startswith("services[0].route.internal: heroku cannot check an internal web service") for p in problems), problems
