# trawl check end to end: a crafted C2 capture, a plain-list feed, the MaxMind
# test databases and a fake OTX server on loopback (tests/integration/check.py).
add_test(NAME check_destinations COMMAND ${TRAWL_PY} ${TRAWL_INTEG}/check.py $<TARGET_FILE:trawl>)
set_tests_properties(check_destinations PROPERTIES LABELS integration SKIP_RETURN_CODE 77 TIMEOUT 120)
