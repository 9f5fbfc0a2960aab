# trawl hunt and trawl extract on real captures: hunt gives the findings of
# the run that made the case (.jsonl and case.db sources), --set thresholds
# apply, and extract writes the packets tshark selects for a connection, a
# host and a finding.
add_test(NAME hunt_extract COMMAND ${TRAWL_PY} ${TRAWL_INTEG}/hunt_extract.py $<TARGET_FILE:trawl>)
set_tests_properties(hunt_extract PROPERTIES LABELS integration SKIP_RETURN_CODE 77 TIMEOUT 300)
