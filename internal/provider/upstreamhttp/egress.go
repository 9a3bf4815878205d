package upstreamhttp

import (
	"fmt"
	"net/netip"
	"syscall"
)

// A baseURL is written by namespace users while the manager holds a cluster-wide credential and
// sits inside the cluster network, so the address a request goes to is checked at the one moment
// that counts: when the socket connects, after DNS resolution. A name that resolves to a forbidden
// address, or that changes its answer between a check and the dial (DNS rebinding), is refused too.

// AddressRefusedError says the egress guard refused to connect to an address. It names the
// address and why, never anything the refused host sent (it sent nothing: no connection was made).
type AddressRefusedError struct {
	Addr netip.Addr
	// Class names the forbidden range, e.g. "a link-local or cloud metadata address".
	Class string
	// Always is true for ranges that no flag allows.
	Always bool
}

func (e *AddressRefusedError) Error() string {
	if e.Always {
		return fmt.Sprintf("egress guard refused to connect to %s: %s, never allowed", e.Addr, e.Class)
	}
	return fmt.Sprintf("egress guard refused to connect to %s: %s, allowed only when the manager runs with --allow-private-addresses",
		e.Addr, e.Class)
}

// addressRange is one forbidden range and how to describe it.
type addressRange struct {
	prefix netip.Prefix
	class  string
}

const (
	classMetadata = "a link-local or cloud metadata address"
	classLoopback = "a loopback address"
	classPrivate  = "a private address"
	classSpecial  = "a special-purpose address"
)

// alwaysRefused holds addresses that give credentials or control of the node to whoever reaches
// them: link-local ranges (instance metadata on AWS, GCP, Azure, OpenStack, ECS task metadata) and
// metadata services that live elsewhere. Some sit inside private ranges; they are checked first.
var alwaysRefused = []addressRange{
	{netip.MustParsePrefix("169.254.0.0/16"), classMetadata},
	{netip.MustParsePrefix("fe80::/10"), classMetadata},
	{netip.MustParsePrefix("fd00:ec2::/32"), classMetadata},      // AWS IMDS (fd00:ec2::254), DNS and NTP over IPv6
	{netip.MustParsePrefix("fd20:ce::254/128"), classMetadata},   // GCP metadata over IPv6
	{netip.MustParsePrefix("100.100.100.200/32"), classMetadata}, // Alibaba Cloud metadata
	{netip.MustParsePrefix("192.0.0.192/32"), classMetadata},     // Oracle Cloud legacy metadata
	{netip.MustParsePrefix("168.63.129.16/32"), classMetadata},   // Azure WireServer
}

// privateRanges are refused unless AllowPrivateAddresses: the cluster's own network, the node, and
// addresses that are not meant to be reached on the internet at all.
var privateRanges = []addressRange{
	{netip.MustParsePrefix("127.0.0.0/8"), classLoopback},
	{netip.MustParsePrefix("::1/128"), classLoopback},
	{netip.MustParsePrefix("10.0.0.0/8"), classPrivate},
	{netip.MustParsePrefix("172.16.0.0/12"), classPrivate},
	{netip.MustParsePrefix("192.168.0.0/16"), classPrivate},
	{netip.MustParsePrefix("fc00::/7"), classPrivate},
	{netip.MustParsePrefix("100.64.0.0/10"), classPrivate},   // carrier-grade NAT, also used for pod networks
	{netip.MustParsePrefix("fec0::/10"), classPrivate},       // deprecated site-local
	{netip.MustParsePrefix("64:ff9b:1::/48"), classPrivate},  // local-use NAT64, translating into the private network
	{netip.MustParsePrefix("0.0.0.0/8"), classSpecial},       // "this network"; 0.0.0.0 reaches the node itself
	{netip.MustParsePrefix("::/128"), classSpecial},          // unspecified, reaches the node itself
	{netip.MustParsePrefix("192.0.0.0/24"), classSpecial},    // IETF protocol assignments
	{netip.MustParsePrefix("198.18.0.0/15"), classSpecial},   // benchmarking
	{netip.MustParsePrefix("240.0.0.0/4"), classSpecial},     // reserved, and broadcast
	{netip.MustParsePrefix("224.0.0.0/4"), classSpecial},     // multicast
	{netip.MustParsePrefix("ff00::/8"), classSpecial},        // multicast
	{netip.MustParsePrefix("100::/64"), classSpecial},        // discard-only
	{netip.MustParsePrefix("2001:db8::/32"), classSpecial},   // documentation
	{netip.MustParsePrefix("192.0.2.0/24"), classSpecial},    // documentation
	{netip.MustParsePrefix("198.51.100.0/24"), classSpecial}, // documentation
	{netip.MustParsePrefix("203.0.113.0/24"), classSpecial},  // documentation
}

// nat64Prefix carries an IPv4 address in its last 32 bits, which a NAT64 gateway connects to:
// 64:ff9b::a9fe:a9fe is 169.254.169.254 in disguise.
var nat64Prefix = netip.MustParsePrefix("64:ff9b::/96")

// checkAddress returns an *AddressRefusedError when addr may not be connected to.
func checkAddress(addr netip.Addr, allowPrivate bool) error {
	addr = addr.Unmap().WithZone("")
	if embedded, ok := nat64Embedded(addr); ok {
		if refused := checkUnmapped(embedded, allowPrivate); refused != nil {
			refused.Addr, refused.Class = addr, refused.Class+" behind a NAT64 prefix"
			return refused
		}
		return nil
	}
	if refused := checkUnmapped(addr, allowPrivate); refused != nil {
		return refused
	}
	return nil
}

// checkUnmapped checks a plain IPv4 or IPv6 address (no IPv4-mapped form, no zone).
func checkUnmapped(addr netip.Addr, allowPrivate bool) *AddressRefusedError {
	for _, r := range alwaysRefused {
		if r.prefix.Contains(addr) {
			return &AddressRefusedError{Addr: addr, Class: r.class, Always: true}
		}
	}
	if allowPrivate {
		return nil
	}
	for _, r := range privateRanges {
		if r.prefix.Contains(addr) {
			return &AddressRefusedError{Addr: addr, Class: r.class}
		}
	}
	return nil
}

func nat64Embedded(addr netip.Addr) (netip.Addr, bool) {
	if !nat64Prefix.Contains(addr) {
		return netip.Addr{}, false
	}
	b := addr.As16()
	return netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}), true
}

// dialControl returns a net.Dialer Control function enforcing the guard. It runs after name
// resolution, for every address the dialer tries, right before connect(2): address is the IP
// literal that is about to be connected to, so what is checked is what is reached.
func dialControl(allowPrivate bool) func(network, address string, _ syscall.RawConn) error {
	return func(_, address string, _ syscall.RawConn) error {
		addrPort, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("egress guard: cannot read the address %q being dialled: %w", address, err)
		}
		return checkAddress(addrPort.Addr(), allowPrivate)
	}
}
