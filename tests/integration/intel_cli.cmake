# trawl intel: exit codes, per-file/per-format/per-type counts and file:line
# errors on the hand-written text feed fixtures (intel_cli.py).
add_test(NAME intel_cli COMMAND ${TRAWL_PY} ${TRAWL_INTEG}/intel_cli.py $<TARGET_FILE:trawl> ${TRAWL_DATA}/intel/text)
set_tests_properties(intel_cli PROPERTIES LABELS integration TIMEOUT 120)
