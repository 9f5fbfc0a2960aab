# POP3, IMAP and FTP analyzers (src/analyzers/{pop3,imap,ftp}): tshark is the
# oracle for what the captures hold. Golden cases: tests/golden/ftp_logins,
# tests/golden/pop3_imap_real_servers.

# Zeek's ftp/bruteforce.pcap: exactly its 30 login attempts in auth.jsonl, all
# failures, matched connection by connection with tshark's PASS and 530s.
add_test(NAME ftp_bruteforce_auth
  COMMAND ${TRAWL_PY} ${TRAWL_INTEG}/ftp_bruteforce_auth.py $<TARGET_FILE:trawl>
    ${TRAWL_DATA}/pcaps/ftp_bruteforce_zeek.pcap)
set_tests_properties(ftp_bruteforce_auth PROPERTIES LABELS integration TIMEOUT 300)

# Commands, replies, data channels, sizes and logins against tshark, on the
# real FTP brute force, on real Dovecot/vsftpd sessions (captured by
# auth_real_servers.py) and on FTP/POP3/IMAP sessions mail_pcaps.py writes at
# test time (no public POP3 or IMAP capture is available).
add_test(NAME oracle_mail
  COMMAND ${TRAWL_PY} ${TRAWL_INTEG}/oracle_mail.py $<TARGET_FILE:trawl> --crafted
    ${TRAWL_DATA}/pcaps/ftp_bruteforce_zeek.pcap
    ${TRAWL_DATA}/pcaps/mail_logins_realsrv_trawl.pcap)
set_tests_properties(oracle_mail PROPERTIES LABELS integration TIMEOUT 300 SKIP_RETURN_CODE 77)
