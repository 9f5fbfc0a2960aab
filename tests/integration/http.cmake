# HTTP analyzer: tshark as the oracle for every request (method, Host, URI),
# every status code and every body length (de-chunked, gzip/deflate decoded)
# on the captures that carry HTTP. See tests/integration/oracle_http.py.
trawl_shared(http_shared
  benign/many_protocols_pcpp.pcap
  c2_beacon/caldera_ragdoll_http_c2.pcap
  c2_beacon/trickbot_c2_ndpi.pcap)
add_test(NAME oracle_http
  COMMAND ${TRAWL_PY} ${TRAWL_INTEG}/oracle_http.py $<TARGET_FILE:trawl>
    ${TRAWL_DATA}/pcaps/wikipedia_browse_zeek.pcap
    ${TRAWL_DATA}/pcaps/workshop_2011_browse_zeek.pcap
    ${http_shared})
set_tests_properties(oracle_http PROPERTIES LABELS integration TIMEOUT 600)
