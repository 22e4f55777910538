# SPDX-License-Identifier: BSD-3-Clause
"""The net_pcap setup the pcap tests share: MAC addresses and the port sections of the config."""

OUT_MAC, IN_MAC = "02:70:63:61:70:00", "02:70:63:61:70:01"   # net_pcap's own MACs
PEER_MAC, HOST_MAC = "02:00:00:00:01:02", "02:00:00:00:02:02"   # the client and the inside host


def ports_config(d, outside_neighbors, mbufs=4095):
    """[dpvpn], [outside] and [inside] on net_pcap files in d: outside 192.0.2.1/24 with static
    neighbours (addresses at PEER_MAC), inside 10.0.0.1/24 with 10.0.0.2 at HOST_MAC."""
    neigh = ", ".join(f"{a} {PEER_MAC}" for a in outside_neighbors)
    return f"""
[dpvpn]
mbufs = {mbufs}
[outside]
device = net_pcap0
devargs = rx_pcap={d}/outside-in.pcap,tx_pcap={d}/outside-out.pcap
address = 192.0.2.1/24
static_neighbors = {neigh}
[inside]
device = net_pcap1
devargs = rx_pcap={d}/inside-in.pcap,tx_pcap={d}/inside-out.pcap
address = 10.0.0.1/24
static_neighbors = 10.0.0.2 {HOST_MAC}
"""
