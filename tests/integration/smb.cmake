# SMB (src/analyzers/smb): tshark as the oracle for smb.jsonl and the SMB
# logins of auth.jsonl on the crafted SMB captures (tests/tools/craft_smb.py)
# and the real ones; the crafted captures are what their generator writes;
# every smb.jsonl line of the crafted captures fits docs/schema/smb.schema.json.
set(smb_crafted
  ${TRAWL_CRAFTED}/smb/smb1_ms08_067_probe.pcap
  ${TRAWL_CRAFTED}/smb/smb1_cve_2009_3103.pcap
  ${TRAWL_CRAFTED}/smb/smb2_session_pipes.pcap
  ${TRAWL_CRAFTED}/smb/smb1_ms06_025_ms07_029.pcap
  ${TRAWL_CRAFTED}/smb/smb3_encrypted.pcap)
trawl_shared(smb_shared
  smb_worm/ms17-010_eternalblue_scan_id2t.pcap
  smb_worm/smb_445_worm_sweep_chappell.pcapng
  smb_worm/blaster_worm_ppa.pcap)

add_test(NAME oracle_smb
  COMMAND ${TRAWL_PY} ${TRAWL_INTEG}/oracle_smb.py $<TARGET_FILE:trawl>
    ${smb_crafted} ${TRAWL_DATA}/pcaps/ms17-010_eternalblue_scan_id2t.pcap ${smb_shared})
add_test(NAME smb_crafted_reproducible
  COMMAND ${TRAWL_PY} ${CMAKE_SOURCE_DIR}/tests/tools/craft_smb.py --check)
add_test(NAME smb_schema_crafted
  COMMAND ${TRAWL_PY} ${CMAKE_SOURCE_DIR}/tests/schema_check.py $<TARGET_FILE:trawl> ${smb_crafted})
set_tests_properties(oracle_smb smb_crafted_reproducible smb_schema_crafted PROPERTIES
  LABELS integration TIMEOUT 300)

# Real Samba (smbd) and real clients (smbclient over SMB1/SMB2/SMB3, rpcclient)
# in two network namespaces (realsrv/lab.py): logins, share lists (srvsvc over
# IPC$), a download, an encrypted share; trawl must agree with tshark
# (oracle_smb.py) and list exactly the scripted logins. Needs root, `ip netns`
# and the Debian packages samba and smbclient (else skipped, exit 77).
add_test(NAME smb_real_samba
  COMMAND ${TRAWL_PY} ${TRAWL_INTEG}/smb_real_samba.py $<TARGET_FILE:trawl>
    --artifacts ${CMAKE_CURRENT_BINARY_DIR}/smb_real_samba)
set_tests_properties(smb_real_samba PROPERTIES LABELS integration TIMEOUT 300 SKIP_RETURN_CODE 77)
