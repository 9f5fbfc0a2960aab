# Login attempts end to end: real servers (dovecot, postfix, vsftpd, nginx,
# OpenSSH) and real clients in two network namespaces the test makes and
# removes; tcpdump captures, trawl's auth.jsonl must list exactly the scripted
# logins. Needs root and `ip netns` (else skipped, exit 77) and the packages
# scripts/setup.sh installs. See docs/testing-real-servers.md.
# The capture, trawl's output and the server logs of the last run are kept in
# the build tree under auth_real_servers/.
add_test(NAME auth_real_servers
  COMMAND ${TRAWL_PY} ${TRAWL_INTEG}/auth_real_servers.py $<TARGET_FILE:trawl>
    --artifacts ${CMAKE_CURRENT_BINARY_DIR}/auth_real_servers)
set_tests_properties(auth_real_servers PROPERTIES
  LABELS integration
  TIMEOUT 600
  SKIP_RETURN_CODE 77)
