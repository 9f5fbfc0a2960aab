# SSH and RDP analyzers (src/analyzers/ssh, src/analyzers/rdp): tshark is the
# oracle for what the captures hold; Zeek's rules (re-implemented in the
# scripts) for what ssh.jsonl infers. Golden cases: tests/golden/ssh_*, rdp_*.

# --- SSH: Zeek's sshguess trace (its SSH::Password_Guessing notice fires at 10
# failed connections), two Trace-Share dictionary attacks that failed, and a
# capture of OpenSSH 9.2 on loopback (2 accepted, 3 rejected logins by
# sshd's own log; port 2299, found by content).
trawl_shared(ssh_guess bruteforce/ssh_guess_zeek.pcap)
if(ssh_guess)
  add_test(NAME oracle_ssh_sshguess
    COMMAND ${TRAWL_PY} ${TRAWL_INTEG}/ssh_oracle.py $<TARGET_FILE:trawl> ${ssh_guess}
      --expect-records 11 --min-failed-conns 10 --no-success)
  set_tests_properties(oracle_ssh_sshguess PROPERTIES LABELS integration TIMEOUT 300)
endif()
trawl_shared(ssh_hydra bruteforce/ssh_hydra_1task_traceshare.pcap)
if(ssh_hydra)
  add_test(NAME oracle_ssh_hydra
    COMMAND ${TRAWL_PY} ${TRAWL_INTEG}/ssh_oracle.py $<TARGET_FILE:trawl> ${ssh_hydra}
      --expect-records 61 --min-failed-conns 60 --no-success)
  set_tests_properties(oracle_ssh_hydra PROPERTIES LABELS integration TIMEOUT 300)
endif()
trawl_shared(ssh_ncrack bruteforce/ssh_ncrack_paranoid_traceshare.pcap)
if(ssh_ncrack)
  # One password per connection and no "none" probe: Zeek's inference (and
  # ours) takes each connection's only failure for the probe's, so no attempt
  # is counted; the test pins that down.
  add_test(NAME oracle_ssh_ncrack
    COMMAND ${TRAWL_PY} ${TRAWL_INTEG}/ssh_oracle.py $<TARGET_FILE:trawl> ${ssh_ncrack}
      --expect-records 110 --no-success)
  set_tests_properties(oracle_ssh_ncrack PROPERTIES LABELS integration TIMEOUT 300)
endif()
add_test(NAME oracle_ssh_openssh92
  COMMAND ${TRAWL_PY} ${TRAWL_INTEG}/ssh_oracle.py $<TARGET_FILE:trawl>
    ${TRAWL_DATA}/pcaps/ssh_openssh92_logins_trawl.pcap
    --port 2299 --expect-records 5 --expect-success 2 --min-failed-conns 3)
set_tests_properties(oracle_ssh_openssh92 PROPERTIES LABELS integration TIMEOUT 300)

# --- RDP: the crafted connection sequences (tests/tools/craft_rdp.py).
add_test(NAME oracle_rdp_crafted
  COMMAND ${TRAWL_PY} ${TRAWL_INTEG}/rdp_oracle.py $<TARGET_FILE:trawl>
    ${TRAWL_CRAFTED}/rdp/rdp_sessions.pcap --port 33890 --expect-records 5)
set_tests_properties(oracle_rdp_crafted PROPERTIES LABELS integration TIMEOUT 300)
add_test(NAME crafted_rdp_reproducible
  COMMAND ${TRAWL_PY} ${CMAKE_SOURCE_DIR}/tests/tools/craft_rdp.py --check)
set_tests_properties(crafted_rdp_reproducible PROPERTIES LABELS integration TIMEOUT 120)
