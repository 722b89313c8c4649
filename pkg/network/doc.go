// Package network owns minibox's host networking: the bridge (minibox0), one veth pair per
// container, the IPv4 address allocator, minibox's own nftables table (masquerade out of the
// subnet, DNAT of published ports from other hosts and from the host itself, hairpin), the
// daemon's holds on published host ports, UDP conntrack flushing, recovery at daemon start,
// and the per-container /etc/hosts and /etc/resolv.conf contents. The host's own TCP
// connections to a published port on a loopback address (or on the address it names) take
// a faster path than DNAT: a cgroup connect4 hook, made with the network's first published
// port and gone with the daemon, connects them to the container's address, so their
// packets cross no NAT (such a socket's own address is the bridge's; a getpeername hook
// keeps its peer the address it dialled).
//
// Everything goes through netlink (rtnetlink, nf_tables, ctnetlink): no ip, nft or iptables
// binary. A Manager works in one network namespace, the daemon's unless Config.NetNS names
// another (tests run a whole stand-in host in a namespace of their own).
//
// Several daemons may share the bridge and the table with different subnets (the end-to-end
// tests run many at once): the host side of each veth has MAC 06:42 + the container's IPv4
// address, port rules name theirs in a comment, and static rules are tagged with their
// subnet, so a Manager's start and Reconcile remove and rewrite only its own subnet's.
//
// It leaves out persistence (addresses live in the container records of state.json and come
// back in as arguments), the "host" and "none" network modes (nothing to do here beyond the
// files), and IPv6.
package network
