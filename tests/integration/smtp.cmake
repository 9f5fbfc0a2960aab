# SMTP analyzer (src/analyzers/smtp): tshark is the oracle for the MAIL FROM
# and RCPT TO addresses, the AUTH attempts and (through tshark's TCP
# reassembly and Python's email package) the attachments and subjects; see
# oracle_smtp.py. Golden case: tests/golden/smtp_authlogin.

# AUTH LOGIN that succeeds and a quoted-printable attachment (Zeek's trace,
# in the repository); the second session in the file has three recipients.
add_test(NAME oracle_smtp_authlogin
  COMMAND ${TRAWL_PY} ${TRAWL_INTEG}/oracle_smtp.py $<TARGET_FILE:trawl>
    ${TRAWL_DATA}/pcaps/smtp_authlogin_attachment_zeek.pcap
    --min-rcpt 4 --min-auth 1 --min-attachments 1)
set_tests_properties(oracle_smtp_authlogin PROPERTIES LABELS integration TIMEOUT 300)

# Mass recipients: 30 RCPT TO (DARPA 1999) and 600 RCPT TO with 600 To, 600 Cc
# and 599 Received headers (Zeek's generated stress trace).
trawl_shared(smtp_30rcpt smtp/smtp_30rcpt_darpa_ndpi.pcap)
if(smtp_30rcpt)
  add_test(NAME oracle_smtp_30rcpt
    COMMAND ${TRAWL_PY} ${TRAWL_INTEG}/oracle_smtp.py $<TARGET_FILE:trawl> ${smtp_30rcpt} --min-rcpt 30)
  set_tests_properties(oracle_smtp_30rcpt PROPERTIES LABELS integration TIMEOUT 300)
endif()
trawl_shared(smtp_600rcpt smtp/smtp_600rcpt_zeek.pcap.gz)
if(smtp_600rcpt)
  add_test(NAME oracle_smtp_600rcpt
    COMMAND ${TRAWL_PY} ${TRAWL_INTEG}/oracle_smtp.py $<TARGET_FILE:trawl> ${smtp_600rcpt} --min-rcpt 600)
  set_tests_properties(oracle_smtp_600rcpt PROPERTIES LABELS integration TIMEOUT 300)
endif()

# Real postfix (SASL through dovecot) driven by swaks and smtplib: AUTH PLAIN with
# an initial response and AUTH LOGIN, good and bad passwords, two attempts on one
# connection (the capture tests/integration/auth_real_servers.py made).
add_test(NAME oracle_smtp_realsrv
  COMMAND ${TRAWL_PY} ${TRAWL_INTEG}/oracle_smtp.py $<TARGET_FILE:trawl>
    ${TRAWL_DATA}/pcaps/mail_logins_realsrv_trawl.pcap --min-auth 7)
set_tests_properties(oracle_smtp_realsrv PROPERTIES LABELS integration TIMEOUT 300)
