# ClickHouse (issue 7): two runs each send half of a capture set to a private
# clickhouse-server on loopback; `trawl hunt --from clickhouse://...` finds
# what only the whole shows, as one run does; a server killed mid-run loses
# nothing (spool + resend.sh). Skipped (77) without clickhouse-server.
add_test(NAME clickhouse_two_halves COMMAND ${TRAWL_PY} ${TRAWL_INTEG}/clickhouse.py $<TARGET_FILE:trawl>)
set_tests_properties(clickhouse_two_halves PROPERTIES LABELS integration SKIP_RETURN_CODE 77 TIMEOUT 120)
