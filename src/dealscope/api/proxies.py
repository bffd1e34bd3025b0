"""Who the client is and how it connected, believing forwarding headers only from our proxies.

Behind nginx the peer of every request is the proxy; the client's address and scheme come in
`X-Forwarded-For` and `X-Forwarded-Proto`. Anyone can send those headers, so they are read
only when the peer is one of `Settings.trusted_proxies`; otherwise the peer is the client.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from starlette.types import Scope

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _peer(scope: Scope) -> str | None:
    client = scope.get("client")
    return str(client[0]) if client else None


@dataclass(frozen=True)
class TrustedProxies:
    """The networks whose forwarding headers are believed."""

    networks: tuple[Network, ...] = ()

    @classmethod
    def parse(cls, entries: Iterable[str]) -> TrustedProxies:
        """From addresses or CIDR networks (`10.0.0.5`, `10.0.0.0/8`, `::1`)."""
        return cls(tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries))

    def trusts(self, address: str | None) -> bool:
        if address is None or not self.networks:
            return False
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:  # a test client's "testclient", a unix socket path
            return False
        return any(ip in network for network in self.networks)

    def client_ip(self, scope: Scope) -> str | None:
        """The client's address: the peer, or the nearest untrusted hop the proxies forwarded."""
        peer = _peer(scope)
        if not self.trusts(peer):
            return peer
        forwarded = _header(scope, b"x-forwarded-for")
        if not forwarded:
            return peer
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        # Each proxy appends the address it saw; read from the right past our own proxies.
        for hop in reversed(hops):
            if not self.trusts(hop):
                return hop
        return hops[0] if hops else peer

    def scheme(self, scope: Scope) -> str:
        """`https` or `http` as the client used it."""
        scheme = str(scope.get("scheme", "http"))
        if self.trusts(_peer(scope)):
            forwarded = _header(scope, b"x-forwarded-proto")
            if forwarded:
                return forwarded.split(",")[0].strip().lower()
        return scheme
