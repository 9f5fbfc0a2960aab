# The attack lab's quick subset: nmap -sT/-sS, hydra against vsftpd and a
# curl beacon, run in network namespaces the script makes and removes; each
# scenario's capture goes through `trawl analyze` and its findings.jsonl must
# hold the expected finding ids and actors and nothing unexpected above low.
# Needs root and `ip netns` (else skipped, exit 77) and the packages
# scripts/setup.sh installs (nmap, hydra, dnsmasq-base, bind9-dnsutils, ...).
# The pcaps, trawl's output and results.json of the last run are kept in the
# build tree under lab_quick/. See tests/lab/README.md; the full lab is
# `tests/lab/lab.py TRAWL OUTDIR` without --quick.
add_test(NAME lab_quick
  COMMAND ${TRAWL_PY} ${CMAKE_SOURCE_DIR}/tests/lab/lab.py $<TARGET_FILE:trawl>
    ${CMAKE_CURRENT_BINARY_DIR}/lab_quick --quick)
set_tests_properties(lab_quick PROPERTIES
  LABELS integration
  TIMEOUT 300
  SKIP_RETURN_CODE 77)
