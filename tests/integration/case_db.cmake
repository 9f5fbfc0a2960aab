# case.db end to end: trawl analyze on real captures, the tables against the
# .jsonl files, trawl query's answers, --append (tests/integration/case_db.py).
add_test(NAME case_db COMMAND ${TRAWL_PY} ${TRAWL_INTEG}/case_db.py $<TARGET_FILE:trawl>)
set_tests_properties(case_db PROPERTIES LABELS integration SKIP_RETURN_CODE 77 TIMEOUT 120)
