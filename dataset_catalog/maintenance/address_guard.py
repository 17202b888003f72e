"""SSRF guard: resolve a host once, refuse non-public addresses, hand back the IPs to connect to.

The link checker connects to exactly the address checked here (never re-resolving the name),
so a DNS answer that changes between check and connect cannot smuggle in a private address.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class BlockedAddressError(Exception):
    """The host resolves to an address the policy refuses (private, loopback, ...)."""


class ResolutionError(Exception):
    """The host name could not be resolved (treated as a transient failure)."""


def parse_allow_list(entries: Iterable[str]) -> tuple[IpNetwork, ...]:
    """'127.0.0.1', '127.0.0.0/8', '::1' -> networks; raises ValueError on a bad entry."""
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries if entry.strip())


def is_public(address: IpAddress) -> bool:
    """True only for globally routable unicast addresses."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return is_public(address.ipv4_mapped)  # ::ffff:127.0.0.1 is loopback in disguise
    return not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or (isinstance(address, ipaddress.IPv6Address) and address.is_site_local)
        or not address.is_global
    )


@dataclass(frozen=True)
class AddressPolicy:
    """Public addresses are allowed; anything else only when inside an allow-listed network."""

    allowed_networks: Sequence[IpNetwork] = ()

    def check(self, address: IpAddress) -> None:
        if is_public(address) or any(address in net for net in self.allowed_networks if net.version == address.version):
            return
        raise BlockedAddressError(
            f"{address} is not a public address (private, loopback, link-local, multicast or reserved)"
        )

    def resolve(self, host: str, port: int) -> list[IpAddress]:
        """Every address of `host`, each checked; raises if any is refused or none is found.

        Refusing the whole host when one address is private (rather than picking a public
        one) is deliberate: a split answer is a classic DNS-rebinding setup.
        """
        try:
            literal = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            literal = None
        if literal is not None:
            addresses = [literal]
        else:
            try:
                infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            except (socket.gaierror, UnicodeError) as exc:
                raise ResolutionError(f"cannot resolve {host!r}: {exc}") from None
            addresses = []
            for _family, _type, _proto, _canon, sockaddr in infos:
                address = ipaddress.ip_address(sockaddr[0].split("%")[0])
                if address not in addresses:
                    addresses.append(address)
            if not addresses:
                raise ResolutionError(f"{host!r} has no addresses")
        for address in addresses:
            self.check(address)
        return addresses
