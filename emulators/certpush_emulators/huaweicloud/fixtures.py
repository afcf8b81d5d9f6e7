"""What the Huawei Cloud targets need that the console creates, made in the simulator
(``certpush_emulators.fixtures``)."""

from __future__ import annotations

from certpush_emulators.fixtures import EmulatorUnreachable, Fixture, FixtureRefused


def create_cdn_domain(url: str, domain: str) -> str:
    """An accelerated domain in the simulated CDN (the console's job on the real one); its id."""
    import httpx

    try:
        response = httpx.post(f"{url}/_sim/cdn/domains", json={"domain_name": domain}, timeout=10)
    except httpx.TransportError as exc:
        raise EmulatorUnreachable(
            f"the Huawei Cloud simulator at {url} cannot be reached ({exc}); is it running?"
        ) from exc
    if response.status_code != 201:
        raise FixtureRefused(f"the simulator refused {domain}: {response.text}; hint: give a valid DNS name")
    return str(response.json()["id"])


FIXTURES = (
    Fixture(
        provider="huaweicloud",
        name="cdn-domain",
        summary="Add an accelerated domain to the Huawei Cloud simulator's CDN, so that "
        "`certpush push ... --to huaweicloud:cdn` has a domain to configure. Prints its id.",
        argument="DOMAIN",
        argument_help="Accelerated domain name, e.g. demo.example.com.",
        create=create_cdn_domain,
    ),
)
