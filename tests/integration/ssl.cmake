# TLS/SSL analyzer (ssl.jsonl): tshark 4.0 as the oracle for server names,
# JA3/JA3S, JA4/JA4S (recomputed from tshark's fields), cipher and version, on
# every capture with TLS and on captures without any (no false detections).
trawl_shared(ssl_oracle_shared
  c2_beacon/beacon_https_every2s_slips.pcap
  c2_beacon/beacon_https_jitter2-3s_slips.pcap
  c2_beacon/tls_malicious_c2_clienthello_suricata.pcap
  c2_beacon/trickbot_c2_ndpi.pcap
  c2_beacon/caldera_ragdoll_http_c2.pcap
  benign/many_protocols_pcpp.pcap
  smtp/smtp_authlogin_attachment_zeek.pcap
  bruteforce/ssh_guess_zeek.pcap
  smb_worm/ms17-010_eternalblue_scan_id2t.pcap)
add_test(NAME oracle_ssl
  COMMAND ${TRAWL_PY} ${TRAWL_INTEG}/oracle_ssl.py $<TARGET_FILE:trawl>
    ${CMAKE_SOURCE_DIR}/tests/unit/analyzers/ssl/data/trawl_tls_handshakes.pcap
    ${TRAWL_REAL_PCAPS} ${ssl_oracle_shared})
set_tests_properties(oracle_ssl PROPERTIES LABELS integration TIMEOUT 900)

# Every ssl.jsonl field the generated handshakes produce (certificates, client
# certificates, alerts, resumption) validates against docs/schema/ssl.schema.json.
add_test(NAME ssl_schema
  COMMAND ${TRAWL_PY} ${CMAKE_SOURCE_DIR}/tests/schema_check.py $<TARGET_FILE:trawl>
    ${CMAKE_SOURCE_DIR}/tests/unit/analyzers/ssl/data/trawl_tls_handshakes.pcap
    ${TRAWL_DATA}/pcaps/tls_malicious_c2_clienthello_suricata.pcap)
set_tests_properties(ssl_schema PROPERTIES LABELS integration TIMEOUT 120)
