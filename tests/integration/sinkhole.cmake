# `trawl sinkhole` against real clients in network namespaces the test creates
# (guest, sink, uplink); checks the records, the analysis of sinkhole.pcap,
# that the sink's kernel sent no RST and that the uplink saw nothing. Root
# only; skipped with exit 77 otherwise.
add_test(NAME sinkhole_netns
  COMMAND ${TRAWL_PY} ${TRAWL_INTEG}/sinkhole_netns.py $<TARGET_FILE:trawl>)
set_tests_properties(sinkhole_netns PROPERTIES LABELS integration TIMEOUT 120 SKIP_RETURN_CODE 77)
# The same for an IPv6-only guest (DNS, HTTP, HTTPS, ping over IPv6), with IPv6
# off in the sink's kernel on the link, and the start-up warning when it is on.
add_test(NAME sinkhole_netns_v6
  COMMAND ${TRAWL_PY} ${TRAWL_INTEG}/sinkhole_netns_v6.py $<TARGET_FILE:trawl>)
set_tests_properties(sinkhole_netns_v6 PROPERTIES LABELS integration TIMEOUT 120 SKIP_RETURN_CODE 77)
