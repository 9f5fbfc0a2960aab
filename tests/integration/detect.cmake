# Detectors on real captures: every expected finding in tests/truth/*.json
# appears with its id and actor; benign captures stay at `low` or below.
add_test(NAME detect_truth COMMAND ${TRAWL_PY} ${TRAWL_INTEG}/detect_truth.py $<TARGET_FILE:trawl>)
set_tests_properties(detect_truth PROPERTIES LABELS integration SKIP_RETURN_CODE 77 TIMEOUT 900)
