"""Every request certpush's Huawei Cloud adapters send, checked against the official SDK's request
classes: the simulator records what arrives; each request is rebuilt as the SDK request model (path
parameters, query names, body fields: unknown ones refused, required ones demanded) and the SDK's own
``_{operation}_http_info`` must give back the same method, path, query and body."""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from huaweicloudsdkcdn.v2 import CdnClient
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.utils.http_utils import sanitize_for_serialization
from huaweicloudsdkelb.v3 import ElbClient
from huaweicloudsdkiam.v3 import IamClient
from huaweicloudsdkwaf.v1 import ListCertificatesRequest, WafClient

from certpush.models.domain import PushRequest
from certpush.providers.huaweicloud.cdn_adapter import HuaweiCdnTarget
from certpush.providers.huaweicloud.client import HuaweiCloudClient, HuaweiCloudCredentials
from certpush.providers.huaweicloud.elb_adapter import HuaweiElbTarget
from certpush.providers.huaweicloud.waf_adapter import HuaweiWafTarget
from certpush_emulators.huaweicloud.simulator import HuaweiCloudSimulator, RecordedRequest
from tests.targets import push_to

pytestmark = pytest.mark.integration

MakeRequest = Callable[..., PushRequest]


@dataclass(frozen=True)
class Operation:
    service: str
    method: str
    path: re.Pattern[str]
    client: type
    name: str  # the SDK client's method, e.g. list_certificates

    @property
    def request_class(self) -> type:
        return _model(self.client, "".join(part.title() for part in self.name.split("_")) + "Request")


def _route(pattern: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern) + "$")


OPERATIONS = [
    Operation("iam", "GET", _route("/v3/projects"), IamClient, "keystone_list_projects"),
    Operation("iam", "GET", _route("/v3/auth/domains"), IamClient, "keystone_list_auth_domains"),
    Operation("waf", "GET", _route("/v1/{project_id}/waf/certificate"), WafClient, "list_certificates"),
    Operation("waf", "POST", _route("/v1/{project_id}/waf/certificate"), WafClient, "create_certificate"),
    Operation("waf", "GET", _route("/v1/{project_id}/waf/certificate/{certificate_id}"), WafClient, "show_certificate"),
    Operation(
        "waf", "PUT", _route("/v1/{project_id}/waf/certificate/{certificate_id}"), WafClient, "update_certificate"
    ),
    Operation(
        "waf", "DELETE", _route("/v1/{project_id}/waf/certificate/{certificate_id}"), WafClient, "delete_certificate"
    ),
    Operation(
        "waf",
        "POST",
        _route("/v1/{project_id}/waf/certificate/{certificate_id}/apply-to-hosts"),
        WafClient,
        "apply_certificate_to_host",
    ),
    Operation("elb", "GET", _route("/v3/{project_id}/elb/certificates"), ElbClient, "list_certificates"),
    Operation("elb", "POST", _route("/v3/{project_id}/elb/certificates"), ElbClient, "create_certificate"),
    Operation(
        "elb", "GET", _route("/v3/{project_id}/elb/certificates/{certificate_id}"), ElbClient, "show_certificate"
    ),
    Operation(
        "elb", "PUT", _route("/v3/{project_id}/elb/certificates/{certificate_id}"), ElbClient, "update_certificate"
    ),
    Operation(
        "elb", "DELETE", _route("/v3/{project_id}/elb/certificates/{certificate_id}"), ElbClient, "delete_certificate"
    ),
    Operation("elb", "GET", _route("/v3/{project_id}/elb/listeners"), ElbClient, "list_listeners"),
    Operation("elb", "GET", _route("/v3/{project_id}/elb/listeners/{listener_id}"), ElbClient, "show_listener"),
    Operation("elb", "PUT", _route("/v3/{project_id}/elb/listeners/{listener_id}"), ElbClient, "update_listener"),
    Operation("cdn", "GET", _route("/v1.0/cdn/domains"), CdnClient, "list_domains"),
    Operation(
        "cdn",
        "GET",
        _route("/v1.1/cdn/configuration/domains/{domain_name}/configs"),
        CdnClient,
        "show_domain_full_config",
    ),
    Operation(
        "cdn",
        "PUT",
        _route("/v1.1/cdn/configuration/domains/{domain_name}/configs"),
        CdnClient,
        "update_domain_full_config",
    ),
]


def _model(client: type, name: str) -> type:
    package = client.__module__.rsplit(".", 1)[0]
    return getattr(importlib.import_module(f"{package}.model"), name)  # type: ignore[no-any-return]


def _required(model: type) -> set[str]:
    """Attributes the generated ``__init__`` sets unconditionally: the API's required fields."""
    source = inspect.getsource(model.__init__)  # type: ignore[misc]
    return set(re.findall(r"^ {8}self\.(\w+) = \1$", source, re.MULTILINE))


def _build(client: type, type_name: str, value: Any, where: str) -> Any:
    """The SDK model (or list / primitive) for a JSON value; unknown or missing required fields fail."""
    if type_name.startswith("list["):
        assert isinstance(value, list), f"{where}: expected a list"
        return [_build(client, type_name[5:-1], item, f"{where}[]") for item in value]
    if type_name in ("str", "int", "bool", "float", "object") or type_name.startswith("dict("):
        return value
    model = _model(client, type_name)
    assert isinstance(value, dict), f"{where}: expected an object for {type_name}"
    by_json = {json_name: attribute for attribute, json_name in model.attribute_map.items()}
    unknown = sorted(set(value) - set(by_json))
    assert not unknown, f"{where}: {type_name} has no fields {unknown}"
    kwargs = {
        by_json[key]: _build(client, model.openapi_types[by_json[key]], item, f"{where}.{key}")
        for key, item in value.items()
    }
    missing = sorted(_required(model) - set(kwargs))
    assert not missing, f"{where}: {type_name} requires {missing}"
    return model(**kwargs)


def _query_value(type_name: str, values: list[str]) -> Any:
    if type_name.startswith("list["):
        return values
    assert len(values) == 1, f"{type_name} given {len(values)} times"
    return {"int": int, "bool": lambda v: v == "true"}.get(type_name, str)(values[0])


def _flatten(query: list[tuple[str, Any]]) -> list[tuple[str, str]]:
    flat: list[tuple[str, str]] = []
    for key, value in query:
        if value is None:  # the SDK client leaves unset parameters out
            continue
        for item in value if isinstance(value, list) else [value]:
            flat.append((key, str(item).lower() if isinstance(item, bool) else str(item)))
    return sorted(flat)


def check_against_sdk(recorded: RecordedRequest) -> str:
    """Raises AssertionError unless the SDK would send exactly this request; returns the operation."""
    candidates = [
        (op, m) for op in OPERATIONS if op.service == recorded.service and op.method == recorded.method
        for m in [op.path.match(recorded.path)] if m
    ]  # fmt: skip
    assert candidates, f"no SDK operation for {recorded.method} {recorded.path}"
    operation, match = candidates[0]
    request_class = operation.request_class
    path_params = {k: v for k, v in match.groupdict().items() if k != "project_id"}
    kwargs: dict[str, Any] = dict(path_params)
    by_json = {json_name: attribute for attribute, json_name in request_class.attribute_map.items()}
    names = dict.fromkeys(key for key, _ in recorded.query)
    for name in names:
        assert name in by_json and name not in path_params, f"{operation.name}: no query parameter {name!r}"
        values = [value for key, value in recorded.query if key == name]
        kwargs[by_json[name]] = _query_value(request_class.openapi_types[by_json[name]], values)
    if recorded.body is not None:
        assert "body" in request_class.openapi_types, f"{operation.name} takes no body"
        kwargs["body"] = _build(operation.client, request_class.openapi_types["body"], recorded.body, "body")
    missing = sorted(_required(request_class) - set(kwargs))
    assert not missing, f"{operation.name}: {missing} required"
    http_info = getattr(operation.client, f"_{operation.name}_http_info")(request_class(**kwargs))
    assert http_info["method"] == recorded.method
    expected_path = http_info["resource_path"].format(**match.groupdict())
    assert expected_path == recorded.path
    assert _flatten(http_info["query_params"]) == sorted(recorded.query), operation.name
    assert sanitize_for_serialization(http_info.get("body")) == recorded.body, f"{operation.name}: body changed"
    return operation.name


def test_the_checker_refuses_what_the_sdk_would_not_send() -> None:
    def request(method: str, path: str, query: tuple[tuple[str, str], ...] = (), body: Any = None) -> RecordedRequest:
        return RecordedRequest(method, path, query, body, path.split("/")[3] if "/waf/" not in path else "waf", "r")

    with pytest.raises(AssertionError, match="no query parameter"):
        check_against_sdk(request("GET", "/v3/p/elb/certificates", (("nme", "x"),)))
    with pytest.raises(AssertionError, match="has no fields"):
        check_against_sdk(request("POST", "/v3/p/elb/certificates", body={"certificate": {"certificat": "x"}}))
    with pytest.raises(AssertionError, match="requires"):
        check_against_sdk(request("PUT", "/v3/p/elb/listeners/l", body={}))
    with pytest.raises(AssertionError, match="no SDK operation"):
        check_against_sdk(request("PATCH", "/v3/p/elb/certificates"))


def test_every_request_the_adapters_send_is_one_the_sdk_would_send(
    sim: HuaweiCloudSimulator,
    http_client: httpx.Client,
    credentials: HuaweiCloudCredentials,
    make_request: MakeRequest,
) -> None:
    # no project ids configured: the client asks IAM
    client = HuaweiCloudClient(lambda: credentials, http_client=http_client, endpoint_template=sim.endpoint_template)
    waf, elb = HuaweiWafTarget(client, enterprise_project_id="0"), HuaweiElbTarget(client)
    cdn = HuaweiCdnTarget(client)
    region = "cn-north-4"
    host = sim.add_waf_host(region, "www.example.com")
    premium = sim.add_waf_host(region, "example.com", mode="premium")
    sni, default = sim.add_elb_listener(region), sim.add_elb_listener(region)
    waf_attach = (f"{region}/{host}", f"{region}/premium/{premium}")
    elb_options = {"attach": (f"{region}/{sni}",), "attach_default": (f"{region}/{default}",)}

    first_waf = push_to(waf, make_request(region, attach=waf_attach))
    # applied to protected domains, v1 cannot be changed (WAF.00022003): v2 is a new certificate, the
    # domains move to it
    second_waf = push_to(
        waf,
        make_request(region, version=2, attach=waf_attach).model_copy(
            update={"previous_target_id": first_waf.target_id}
        ),
    )
    unbound = push_to(waf, make_request(region, certificate_id="spare"))  # applied nowhere: renewed in place
    renewed = push_to(
        waf,
        make_request(region, certificate_id="spare", version=2).model_copy(
            update={"previous_target_id": unbound.target_id}
        ),
    )
    assert renewed.target_id == unbound.target_id
    first_elb = push_to(elb, make_request(region, **elb_options))
    push_to(
        elb,
        make_request(region, version=2, **elb_options).model_copy(update={"previous_target_id": first_elb.target_id}),
    )
    push_to(elb, make_request(region, certificate_id="other", **elb_options))  # replaces the overlapping SNI one
    assert waf.in_use(region, first_waf.target_id) == [] and waf.in_use(region, second_waf.target_id)
    assert elb.in_use(region, first_elb.target_id) == []  # "other" took its place on both listeners
    waf.retract(region, first_waf.target_id)
    elb.retract(region, first_elb.target_id)
    sim.add_cdn_domain("www.example.com")
    sim.add_cdn_domain("example.com")
    push_to(cdn, make_request("global"))
    assert cdn.in_use("global", push_to(cdn, make_request("global", version=2, attach=("example.com",))).target_id)

    recorded = sim.requests()
    ours = {request.signed_headers for request in recorded if request.service in ("waf", "elb")}
    sim.reset()
    sdk = WafClient.new_builder().with_credentials(
        BasicCredentials(credentials.access_key, credentials.secret_key.get_secret_value(), sim.project_id(region))
    )
    sdk.with_endpoints([sim.url]).build().list_certificates(ListCertificatesRequest())
    assert ours == {sim.requests()[0].signed_headers}  # the SDK signs the same headers
    covered = {check_against_sdk(request) for request in recorded}
    assert covered >= {
        "keystone_list_projects", "keystone_list_auth_domains", "list_certificates", "create_certificate",
        "update_certificate",
        "show_certificate", "apply_certificate_to_host", "show_listener", "update_listener",
        "list_listeners", "delete_certificate", "list_domains", "show_domain_full_config",
        "update_domain_full_config",
    }  # fmt: skip
