# DNS (dns.jsonl): tshark as the oracle. Per capture, trawl's queries
# (name, qtype) and responses (name, qtype, rcode, A/AAAA answers) must be the
# multisets tshark's DNS, mDNS and LLMNR messages give (oracle_dns.py says
# precisely how). --craft adds a capture written by the script itself: DNS
# over TCP (several messages per segment, messages split across segments, a
# 4 KB response), odd bytes in names, an unanswered query, a lone response
# and a NOTIFY.
trawl_shared(dns_oracle_shared
  dns/dns2tcp_dmachard.pcap
  dns/dns_txt_tunnel_suricata.pcap
  dns/dnscat2_dmachard.pcap
  dns/dnsexfiltrator_dmachard.pcap
  dns/iodine_dmachard.pcap
  dns/sods_dmachard.pcap
  benign/wikipedia_browse_zeek.pcap
  benign/workshop_2011_browse_zeek.pcap
  benign/many_protocols_pcpp.pcap
  c2_beacon/beacon_https_jitter2-3s_slips.pcap
  scan/masscan_udp_0-1000_esnet.pcap)
add_test(NAME oracle_dns
  COMMAND ${TRAWL_PY} ${TRAWL_INTEG}/oracle_dns.py $<TARGET_FILE:trawl> --craft
    ${TRAWL_DATA}/pcaps/dns_txt_tunnel_suricata.pcap
    ${TRAWL_CRAFTED}/icmp_sweep_dns_flip.pcap
    ${TRAWL_CRAFTED}/bsd_loopback_null.pcap
    ${TRAWL_CRAFTED}/vlan_8021q.pcap
    ${dns_oracle_shared})
set_tests_properties(oracle_dns PROPERTIES LABELS integration TIMEOUT 600)
