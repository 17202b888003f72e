import ipaddress

import pytest

from dataset_catalog.maintenance.address_guard import (
    AddressPolicy,
    BlockedAddressError,
    ResolutionError,
    is_public,
    parse_allow_list,
)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "224.0.0.1",
        "240.0.0.1",
        "0.0.0.0",
        "100.64.0.1",
        "::1",
        "fe80::1",
        "fc00::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
    ],
)
def test_non_public_addresses_are_refused(address):
    assert not is_public(ipaddress.ip_address(address))
    with pytest.raises(BlockedAddressError):
        AddressPolicy().check(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["8.8.8.8", "151.101.1.69", "2606:4700::1111"])
def test_public_addresses_pass(address):
    AddressPolicy().check(ipaddress.ip_address(address))


def test_allow_list_admits_only_its_networks():
    policy = AddressPolicy(parse_allow_list(["127.0.0.1"]))
    policy.check(ipaddress.ip_address("127.0.0.1"))
    with pytest.raises(BlockedAddressError):
        policy.check(ipaddress.ip_address("127.0.0.2"))
    wide = AddressPolicy(parse_allow_list(["127.0.0.0/8", " "]))
    wide.check(ipaddress.ip_address("127.0.0.2"))
    with pytest.raises(ValueError):
        parse_allow_list(["not-a-network"])


def test_resolution_checks_every_address_after_dns():
    # "localhost" is a name, not a literal: it is resolved, then refused.
    with pytest.raises(BlockedAddressError):
        AddressPolicy().resolve("localhost", 80)
    assert AddressPolicy(parse_allow_list(["127.0.0.0/8", "::1"])).resolve("localhost", 80)
    with pytest.raises(ResolutionError):
        AddressPolicy().resolve("no-such-host.invalid", 80)
