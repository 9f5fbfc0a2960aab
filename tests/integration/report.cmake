# report.html in headless Chromium: no console errors, no requests, the
# findings count, the XSS canaries stay text; `trawl report CASE` gives the
# same data (report_chromium.py). The overview screenshot is a CI artifact.
add_test(NAME report_chromium
         COMMAND ${TRAWL_PY} ${TRAWL_INTEG}/report_chromium.py $<TARGET_FILE:trawl> ${CMAKE_BINARY_DIR}/test-artifacts)
set_tests_properties(report_chromium PROPERTIES LABELS integration SKIP_RETURN_CODE 77 TIMEOUT 120)
