// TLS fingerprints: JA3 and JA3S (Salesforce: MD5 of the decimal field
// lists, GREASE removed) and JA4 and JA4S (FoxIO), plus the MD5 and SHA-256
// hex digests they and the certificate fingerprints use.
#pragma once

#include <string>
#include <string_view>

#include "analyzers/ssl/tls_parser.h"
#include "core/byte_view.h"

namespace trawl::analyzers::ssl {

// Lower-case hex digests through OpenSSL (empty if the provider refuses).
std::string md5_hex(std::string_view data);
std::string sha256_hex(core::ByteView data);

// "771,4865-4866,0-11-10,29-23,0": the JA3 input string; empty for an SSLv2 hello.
std::string ja3_string(const ClientHello& ch);
// MD5 of ja3_string; empty for an SSLv2 hello.
std::string ja3(const ClientHello& ch);
// "771,49199,65281-0-11": the JA3S input string.
std::string ja3s_string(const ServerHello& sh);
std::string ja3s(const ServerHello& sh);

// JA4 ("t13d1516h2_8daaf6152771_e5627efa2ab1"); transport 't' (TCP), 'q' (QUIC) or 'd' (DTLS).
// Empty for an SSLv2 hello.
std::string ja4(const ClientHello& ch, char transport = 't');
// JA4_r: the same with the sorted lists in clear instead of hashed.
std::string ja4_raw(const ClientHello& ch, char transport = 't');
// JA4S ("t120400_c030_4e8089b08790").
std::string ja4s(const ServerHello& sh, char transport = 't');

// The JA3 and JA4 ('t') of a ClientHello and the JA3S and JA4S ('t') of a
// ServerHello, exactly as ja3()/ja4()/ja3s()/ja4s() give them, memoised per
// thread: traffic repeats a few hellos (one per client library) over and
// over, and building the strings and three digests costs about 30 k
// instructions per hello. The memo key is every field those functions read,
// so a hit returns what the direct computation would; memory is bounded.
void client_fingerprints(const ClientHello& ch, std::string& ja3_out, std::string& ja4_out);
void server_fingerprints(const ServerHello& sh, std::string& ja3s_out, std::string& ja4s_out);

// JA4's two-character ALPN field for one protocol name ("h2", "h1", "00" ...).
std::string ja4_alpn_chars(std::string_view alpn);

}  // namespace trawl::analyzers::ssl
