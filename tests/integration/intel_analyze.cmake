# intel.match end to end: `trawl analyze --intel` with a plain list and a
# Feodo-layout CSV over samples/wikipedia.pcap; exact findings, counts checked
# against tshark, schema, load errors and a missing feed (exit 2).
add_test(NAME intel_analyze COMMAND ${TRAWL_PY} ${TRAWL_INTEG}/intel_analyze.py $<TARGET_FILE:trawl>)
set_tests_properties(intel_analyze PROPERTIES LABELS integration TIMEOUT 120)
