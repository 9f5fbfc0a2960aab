# Live capture with process attribution: `trawl check --live` in a network
# namespace the test creates (root only; skipped with exit 77 otherwise).
add_test(NAME live_check_attribution
  COMMAND ${TRAWL_PY} ${TRAWL_INTEG}/live_check.py $<TARGET_FILE:trawl>)
set_tests_properties(live_check_attribution PROPERTIES LABELS integration TIMEOUT 120 SKIP_RETURN_CODE 77)
