#!/usr/bin/python3
"""Regenerates the TLS byte streams the ssl unit tests replay (data/*.tls).

    make_handshakes.py [--shared ../shared/pcaps]

Two sources:
  * handshakes made here, entirely in memory (Python's ssl module over
    MemoryBIO pairs, no sockets): a private CA and server certificate made
    with python3-cryptography, then TLS 1.3 and TLS 1.2 connections, session
    resumption and a rejected certificate. Keys and randoms differ on every
    run, so the committed files are one run's output; the tests read the
    values that stay fixed (names, versions, ciphers, SANs, validity).
  * the first TLS 1.2 connection with a certificate chain in
    benign/many_protocols_pcpp.pcap (seladb/PcapPlusPlus, Unlicense), taken
    with `tshark -z follow,tcp,raw`.

A .tls file is a sequence of chunks: direction byte (0 client->server,
1 server->client), 4-byte big-endian length, payload, in the order sent.
"""
import argparse
import datetime
import os
import ssl
import struct
import subprocess
import sys
import tempfile

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data")
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", "..", ".."))

NOT_BEFORE = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
NOT_AFTER = datetime.datetime(2034, 1, 1, tzinfo=datetime.timezone.utc)


def name(cn, org):
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "DE"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_pki(tmp):
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = name("Trawl Test CA", "Trawl Test")
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(1)
          .not_valid_before(NOT_BEFORE).not_valid_after(NOT_AFTER)
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (x509.CertificateBuilder().subject_name(name("www.trawl.test", "Trawl Web"))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(2)
            .not_valid_before(NOT_BEFORE).not_valid_after(NOT_AFTER)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("www.trawl.test"),
                                                        x509.DNSName("*.api.trawl.test")]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = {}
    for label, obj in (("ca", ca), ("leaf", leaf)):
        paths[label] = os.path.join(tmp, label + ".pem")
        with open(paths[label], "wb") as f:
            f.write(obj.public_bytes(serialization.Encoding.PEM))
    paths["chain"] = os.path.join(tmp, "chain.pem")
    with open(paths["chain"], "wb") as f:
        f.write(leaf.public_bytes(serialization.Encoding.PEM) + ca.public_bytes(serialization.Encoding.PEM))
    paths["key"] = os.path.join(tmp, "key.pem")
    with open(paths["key"], "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return paths


def handshake(client_ctx, server_ctx, sni, session=None, app=True):
    """Runs one connection in memory; returns (chunks, client SSLObject)."""
    c_in, c_out, s_in, s_out = ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO()
    client = client_ctx.wrap_bio(c_in, c_out, server_hostname=sni, session=session)
    server = server_ctx.wrap_bio(s_in, s_out, server_side=True)
    chunks = []

    def pump():
        moved = False
        data = c_out.read()
        if data:
            chunks.append((0, data))
            s_in.write(data)
            moved = True
        data = s_out.read()
        if data:
            chunks.append((1, data))
            c_in.write(data)
            moved = True
        return moved

    done = {"c": False, "s": False}
    failed = False
    for _ in range(20):
        for side, obj in (("c", client), ("s", server)):
            if done[side]:
                continue
            try:
                obj.do_handshake()
                done[side] = True
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                pass
            except ssl.SSLError:
                failed = True
        pump()
        if failed or (done["c"] and done["s"]):
            break
    pump()
    if app and not failed:
        client.write(b"GET / HTTP/1.1\r\nHost: " + sni.encode() + b"\r\n\r\n")
        pump()
        try:
            server.read(4096)
        except ssl.SSLWantReadError:
            pass
        server.write(b"HTTP/1.1 204 No Content\r\n\r\n")
        pump()
        try:
            client.read(4096)
        except ssl.SSLWantReadError:
            pass
        pump()
    return chunks, client


def contexts(pki, version, alpn):
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(pki["chain"], pki["key"])
    server.maximum_version = version
    if alpn:
        server.set_alpn_protocols(alpn)
    client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client.load_verify_locations(pki["ca"])
    client.maximum_version = version
    if alpn:
        client.set_alpn_protocols(alpn)
    return client, server


CASES = []


def write(name_, chunks):
    CASES.append((name_, chunks))
    path = os.path.join(DATA, name_ + ".tls")
    with open(path, "wb") as f:
        for d, data in chunks:
            f.write(struct.pack(">BI", d, len(data)) + data)
    print(f"{path}: {len(chunks)} chunks, {sum(len(c) for _, c in chunks)} bytes")


def from_capture(pcap, stream, keep_app=2):
    out = subprocess.run(["tshark", "-r", pcap, "-q", "-z", f"follow,tcp,raw,{stream}"],
                         capture_output=True, text=True, check=True).stdout
    chunks = []
    app = 0
    for line in out.splitlines():
        if not line.strip() or line.startswith(("=", "Follow", "Filter", "Node")):
            continue
        d = 1 if line.startswith("\t") else 0
        data = bytes.fromhex(line.strip())
        if data[:1] == b"\x17":
            app += 1
            if app > keep_app:
                break
        chunks.append((d, data))
    return chunks


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=os.path.join(ROOT, "..", "shared", "pcaps"))
    args = ap.parse_args()
    os.makedirs(DATA, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        pki = make_pki(tmp)

        c, s = contexts(pki, ssl.TLSVersion.TLSv1_3, ["h2", "http/1.1"])
        chunks, client = handshake(c, s, "www.trawl.test")
        write("tls13_h2", chunks)
        # The session ticket arrives after the handshake; resume with it (PSK).
        sess = client.session
        chunks, client = handshake(c, s, "www.trawl.test", session=sess)
        assert client.session_reused, "TLS 1.3 resumption failed"
        write("tls13_psk_resumed", chunks)

        c, s = contexts(pki, ssl.TLSVersion.TLSv1_2, ["http/1.1"])
        s.set_ciphers("ECDHE-ECDSA-AES128-GCM-SHA256")
        chunks, client = handshake(c, s, "v1.api.trawl.test")
        write("tls12_chain", chunks)
        chunks, client2 = handshake(c, s, "v1.api.trawl.test", session=client.session)
        assert client2.session_reused, "TLS 1.2 resumption failed"
        write("tls12_resumed", chunks)

        # Mutual TLS: the server asks for a certificate, the client sends the same chain.
        c, s2 = contexts(pki, ssl.TLSVersion.TLSv1_2, None)
        s2.verify_mode = ssl.CERT_REQUIRED
        s2.load_verify_locations(pki["ca"])
        c.load_cert_chain(pki["chain"], pki["key"])
        chunks, _ = handshake(c, s2, "www.trawl.test")
        write("tls12_client_cert", chunks)

        # A client that does not trust the CA: a plaintext fatal alert.
        bad = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        bad.maximum_version = ssl.TLSVersion.TLSv1_2
        chunks, _ = handshake(bad, s, "other.example", app=False)
        write("tls12_alert", chunks)

    generated = list(CASES)
    pcap = os.path.join(args.shared, "benign", "many_protocols_pcpp.pcap")
    if os.path.exists(pcap):
        write("pcpp_google_tls12", from_capture(pcap, 2))
    else:
        print(f"skipping the capture extract: {pcap} not found", file=sys.stderr)
    write_pcap(os.path.join(DATA, "trawl_tls_handshakes.pcap"), generated)


def write_pcap(path, cases):
    """The generated connections as one capture (TCP handshake, segments of at
    most 1000 bytes, FIN both ways), for the oracle and the golden case. One
    connection per case; the last case runs on port 8444 (no port hint)."""
    from scapy.all import IP, TCP, Ether, wrpcap  # slow import, only needed here

    pkts = []
    t = 1700000000.0
    for i, (name_, chunks) in enumerate(cases):
        cli, srv = "10.9.0.%d" % (10 + i), "10.9.1.1"
        sport, dport = 40000 + i, 8444 if i == len(cases) - 1 else 443
        seq = {0: 1000 * (i + 1), 1: 500000 * (i + 1)}
        ends = {0: (cli, srv, sport, dport), 1: (srv, cli, dport, sport)}

        def pkt(d, flags, payload=b""):
            nonlocal t
            src, dst, sp, dp = ends[d]
            p = (Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IP(src=src, dst=dst) /
                 TCP(sport=sp, dport=dp, flags=flags, seq=seq[d], ack=seq[1 - d], window=65535) / payload)
            p.time = t
            t += 0.001
            pkts.append(p)
            seq[d] += len(payload) + (1 if "S" in flags or "F" in flags else 0)

        pkt(0, "S")
        pkt(1, "SA")
        pkt(0, "A")
        for d, data in chunks:
            for off in range(0, len(data), 1000):
                pkt(d, "PA", data[off:off + 1000])
        pkt(0, "FA")
        pkt(1, "FA")
        pkt(0, "A")
        t += 1.0
    wrpcap(path, pkts)
    print(f"{path}: {len(pkts)} packets, {len(cases)} connections")


if __name__ == "__main__":
    main()
