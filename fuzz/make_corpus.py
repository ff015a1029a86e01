#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets into fuzz/corpus/<target>/ (small, real examples
of each message kind; the files are committed, run this again only to change them). Encodings
follow sftp/sftp_protocol.h, tunnel/tunnel_frame.h, RFC 1035 and the Docker plugin API."""

import json
import pathlib
import struct

CORPUS = pathlib.Path(__file__).resolve().parent / "corpus"


def write(target, name, data):
    folder = CORPUS / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data if isinstance(data, bytes) else data.encode())


# --- SFTP v3 replies: type, id, payload (what SftpSession delivers, after the length) ---------

def sftp_string(value):
    value = value if isinstance(value, bytes) else value.encode()
    return struct.pack(">I", len(value)) + value


def sftp_attrs(size=None, uid_gid=None, mode=None, times=None, extended=()):
    flags, body = 0, b""
    if size is not None:
        flags |= 0x1
        body += struct.pack(">Q", size)
    if uid_gid is not None:
        flags |= 0x2
        body += struct.pack(">II", *uid_gid)
    if mode is not None:
        flags |= 0x4
        body += struct.pack(">I", mode)
    if times is not None:
        flags |= 0x8
        body += struct.pack(">II", *times)
    if extended:
        flags |= 0x80000000
        body += struct.pack(">I", len(extended))
        for kind, data in extended:
            body += sftp_string(kind) + sftp_string(data)
    return struct.pack(">I", flags) + body


def sftp_reply(kind, request_id, payload):
    return bytes([kind]) + struct.pack(">I", request_id) + payload


def sftp_corpus():
    target = "fuzz_sftp_reply"
    for code, name in [(0, "ok"), (1, "eof"), (2, "no_such_file"), (3, "permission_denied"),
                       (4, "failure"), (8, "op_unsupported")]:
        write(target, f"status_{name}",
              sftp_reply(101, 7, struct.pack(">I", code) + sftp_string(name) + sftp_string("en")))
    write(target, "handle", sftp_reply(102, 8, sftp_string(b"\x00\x00\x00\x01")))
    write(target, "data", sftp_reply(103, 9, sftp_string(b"hello, remote file\n")))
    file_attrs = sftp_attrs(size=1234, uid_gid=(1000, 1000), mode=0o100644,
                            times=(1700000000, 1700000001))
    dir_attrs = sftp_attrs(size=4096, uid_gid=(0, 0), mode=0o40755, times=(1700000000, 1700000000))
    entries = [(".", "drwxr-xr-x 2 root root 4096 Jan 1 00:00 .", dir_attrs),
               ("..", "drwxr-xr-x 3 root root 4096 Jan 1 00:00 ..", dir_attrs),
               ("file.txt", "-rw-r--r-- 1 user user 1234 Jan 1 00:00 file.txt", file_attrs)]
    names = struct.pack(">I", len(entries))
    for filename, longname, attrs in entries:
        names += sftp_string(filename) + sftp_string(longname) + attrs
    write(target, "name_readdir", sftp_reply(104, 10, names))
    write(target, "name_realpath",
          sftp_reply(104, 11, struct.pack(">I", 1) + sftp_string("/srv/data") + sftp_string("") +
                     sftp_attrs()))
    write(target, "attrs_file", sftp_reply(105, 12, file_attrs))
    write(target, "attrs_extended",
          sftp_reply(105, 13, sftp_attrs(size=1, mode=0o120777, extended=[("acl@x", "rw")])))
    write(target, "extended_reply_statvfs",
          sftp_reply(201, 14, struct.pack(">11Q", 4096, 4096, 1000000, 500000, 400000, 65536,
                                          60000, 60000, 42, 0, 255)))
    write(target, "version",
          bytes([2]) + struct.pack(">I", 3) + sftp_string("posix-rename@openssh.com") +
          sftp_string("1") + sftp_string("statvfs@openssh.com") + sftp_string("2") +
          sftp_string("fsync@openssh.com") + sftp_string("1"))


# --- Tunnel frames: u32 length, u8 type, u32 id, payload --------------------------------------

def short_string(value):
    value = value if isinstance(value, bytes) else value.encode()
    return struct.pack(">H", len(value)) + value


def string_list(values):
    return struct.pack(">H", len(values)) + b"".join(short_string(v) for v in values)


def frame(kind, frame_id, payload=b""):
    return struct.pack(">IBI", 5 + len(payload), kind, frame_id) + payload


def tunnel_corpus():
    frames = {
        "hello": frame(1, 0, struct.pack(">I", 1) + short_string("daemon-laptop") +
                       short_string("s3cr3t")),
        "welcome": frame(2, 0, string_list(["10.96.0.0/12", "172.30.0.0/16"]) +
                         string_list(["default.svc.cluster.local", "svc.cluster.local"]) +
                         short_string("cluster.local")),
        "refused": frame(3, 0, short_string("wrong secret")),
        "open_tcp": frame(4, 7, short_string("echo.default") + struct.pack(">H", 8080)),
        "opened": frame(5, 7),
        "open_failed": frame(6, 9, struct.pack(">i", 111) + short_string("connection refused")),
        "data": frame(7, 7, b"GET / HTTP/1.1\r\nHost: echo\r\n\r\n"),
        "window": frame(8, 7, struct.pack(">I", 256 * 1024)),
        "close_half": frame(9, 7, bytes([1])),
        "close_reset": frame(9, 7, bytes([2])),
        "udp_datagram": frame(10, 3, short_string("10.0.0.53") + struct.pack(">H", 53) + b"query"),
        "udp_reply": frame(11, 3, short_string("::1") + struct.pack(">H", 5353) + b"answer"),
        "dns_query": frame(12, 42, dns_query(0x1234, "echo.default.svc.cluster.local", 1)),
        "dns_answer": frame(13, 42, struct.pack(">i", 0) + dns_compressed_answer()),
        "dns_answer_error": frame(13, 42, struct.pack(">i", 110)),
        "ping": frame(14, 0, struct.pack(">Q", 0x0102030405060708)),
        "pong": frame(15, 0, struct.pack(">Q", 0xfffffffffffffffe)),
        "subnets_changed": frame(16, 0, string_list(["10.0.0.0/8"])),
        "request": frame(17, 5, b'{"op":"list"}'),
        "reply": frame(18, 5, struct.pack(">i", 0) + b'{"workloads":[]}'),
        "reply_error": frame(18, 6, struct.pack(">i", 22) + b'{"error":"unknown op"}'),
    }
    for name, data in frames.items():
        write("fuzz_tunnel_frame", name, data)
    write("fuzz_tunnel_frame", "stream_of_frames", b"".join(frames.values()))


# --- DNS messages (RFC 1035), with compression -----------------------------------------------

def dns_name(name):
    out = b""
    for label in filter(None, name.split(".")):
        out += bytes([len(label)]) + label.encode()
    return out + b"\x00"


def dns_header(msg_id, flags, qd=0, an=0, ns=0, ar=0):
    return struct.pack(">6H", msg_id, flags, qd, an, ns, ar)


def dns_question(name, qtype, qclass=1):
    return dns_name(name) + struct.pack(">HH", qtype, qclass)


def dns_record(owner, rtype, rdata, ttl=60, rclass=1):
    owner = owner if isinstance(owner, bytes) else dns_name(owner)
    return owner + struct.pack(">HHIH", rtype, rclass, ttl, len(rdata)) + rdata


def dns_query(msg_id, name, qtype):
    return dns_header(msg_id, 0x0100, qd=1) + dns_question(name, qtype)


POINTER_TO_QUESTION = b"\xc0\x0c"  # the question's name starts right after the 12-byte header


def dns_compressed_answer():
    return (dns_header(0x1234, 0x8180, qd=1, an=1) +
            dns_question("echo.default.svc.cluster.local", 1) +
            dns_record(POINTER_TO_QUESTION, 1, bytes([10, 96, 0, 10])))


def dns_corpus():
    target = "fuzz_dns_message"
    write(target, "query_a_short_name", dns_query(0x0001, "echo", 1))
    write(target, "query_a_search_name", dns_query(0x0002, "echo.default", 1))
    write(target, "query_aaaa_cluster", dns_query(0x0003, "echo.default.svc.cluster.local", 28))
    write(target, "query_ptr", dns_query(0x0004, "10.0.96.10.in-addr.arpa", 12))
    write(target, "query_with_edns",
          dns_header(0x0005, 0x0100, qd=1, ar=1) + dns_question("example.com", 1) +
          b"\x00" + struct.pack(">HHIH", 41, 1232, 0, 0))
    write(target, "query_opcode_status", dns_header(0x0006, 0x1100, qd=1) +
          dns_question("echo", 1))
    write(target, "reply_a_compressed", dns_compressed_answer())
    # CNAME to a name that reuses the question's suffix, then its A record.
    question = dns_question("www.example.com", 1)
    cname_target = b"\x03web" + b"\xc0\x10"  # "web" + pointer to "example.com" at offset 16
    reply = (dns_header(0x0007, 0x8180, qd=1, an=2) + question +
             dns_record(POINTER_TO_QUESTION, 5, cname_target) +
             dns_record(b"\xc0\x2d", 1, bytes([93, 184, 216, 34])))
    write(target, "reply_cname_chain", reply)
    # NXDOMAIN with an SOA in the authority section, names compressed.
    question = dns_question("missing.default.svc.cluster.local", 1)
    soa = (b"\x02ns\x03dns" + b"\xc0\x20" + b"\x0ahostmaster" + b"\xc0\x20" +
           struct.pack(">5I", 2024010101, 7200, 1800, 86400, 30))
    write(target, "reply_nxdomain_soa",
          dns_header(0x0008, 0x8183, qd=1, ns=1) + question +
          dns_record(b"\xc0\x20", 6, soa, ttl=30))
    question = dns_question("example.com", 15)
    write(target, "reply_mx",
          dns_header(0x0009, 0x8180, qd=1, an=2) + question +
          dns_record(POINTER_TO_QUESTION, 15, struct.pack(">H", 10) + b"\x04mail\xc0\x0c") +
          dns_record(POINTER_TO_QUESTION, 15, struct.pack(">H", 20) + b"\x05mail2\xc0\x0c"))
    question = dns_question("_http._tcp.echo.default.svc.cluster.local", 33)
    write(target, "reply_srv",
          dns_header(0x000a, 0x8580, qd=1, an=1) + question +
          dns_record(POINTER_TO_QUESTION, 33,
                     struct.pack(">HHH", 0, 100, 8080) + b"\x04echo\xc0\x1c"))
    question = dns_question("example.com", 16)
    write(target, "reply_txt",
          dns_header(0x000b, 0x8180, qd=1, an=1) + question +
          dns_record(POINTER_TO_QUESTION, 16, b"\x0bhello world\x05again"))
    head = (dns_header(0x000c, 0x8180, qd=1, an=1, ns=1, ar=1) + dns_question("echo", 1) +
            dns_record(POINTER_TO_QUESTION, 1, bytes([10, 96, 0, 10])))
    to_cluster_local = struct.pack(">H", 0xc000 | len(head))  # the authority's owner name
    write(target, "reply_ns_with_glue",
          head + dns_record(dns_name("cluster.local"), 2, b"\x02ns" + to_cluster_local) +
          dns_record(b"\x02ns" + to_cluster_local, 1, bytes([10, 96, 0, 53])))
    write(target, "reply_servfail_header_only", dns_header(0x000d, 0x8182))


# --- Docker plugin API requests: "Method\n" + body (see fuzz/plugin_call.h) ----------------------

def plugin_request(method, body):
    return method + "\n" + (json.dumps(body) if body is not None else "")


def volume_corpus():
    target = "fuzz_volume_request"
    agent = {"host": "127.0.0.1", "port": "2222", "container": "echo", "dir": "srv/echo-data"}
    requests = {
        "create_agent_export": ("Create", {"Name": "echo-data", "Opts": agent}),
        "create_path_ro_token": ("Create", {"Name": "share", "Opts": {
            "host": "tp-default-cn", "port": "40001", "path": "/srv/share", "ro": "true",
            "token": "0123456789abcdef0123456789abcdef"}}),
        "create_no_options": ("Create", {"Name": "bare", "Opts": None}),
        "remove": ("Remove", {"Name": "echo-data"}),
        "mount": ("Mount", {"Name": "echo-data", "ID": "5f3c0a1b2c3d"}),
        "unmount": ("Unmount", {"Name": "echo-data", "ID": "5f3c0a1b2c3d"}),
        "path": ("Path", {"Name": "echo-data"}),
        "get": ("Get", {"Name": "echo-data"}),
        "list": ("List", {}),
        "list_empty_body": ("List", None),
        "capabilities": ("Capabilities", {}),
    }
    for name, (method, body) in requests.items():
        write(target, name, plugin_request("VolumeDriver." + method, body))
    # Found by this target: printing a body this deep overflowed the serving thread's stack.
    depth = 20000
    write(target, "crash-deep-nesting",
          'VolumeDriver.List\n{"a":' + "[" * depth + "]" * depth + "}")


def network_corpus():
    target = "fuzz_network_request"
    ids = {"NetworkID": "4d5a1c0e9f", "EndpointID": "8b7e6f5a4c"}
    create_network = {
        "NetworkID": "4d5a1c0e9f",
        "Options": {"com.docker.network.enable_ipv6": False,
                    "com.docker.network.generic": {"daemon": "10.200.0.2",
                                                   "subnets": "10.96.0.0/12,10.213.0.0/24"}},
        "IPv4Data": [{"AddressSpace": "LocalDefault", "Pool": "10.200.0.0/24",
                      "Gateway": "10.200.0.1/24", "AuxAddresses": {"daemon": "10.200.0.2"}}],
        "IPv6Data": []}
    requests = {
        "get_capabilities": ("GetCapabilities", None),
        "create_network": ("CreateNetwork", create_network),
        "delete_network": ("DeleteNetwork", {"NetworkID": "4d5a1c0e9f"}),
        "create_endpoint": ("CreateEndpoint", dict(ids, Interface={
            "Address": "10.200.0.3/24", "AddressIPv6": "", "MacAddress": ""}, Options={})),
        "endpoint_oper_info": ("EndpointOperInfo", ids),
        "delete_endpoint": ("DeleteEndpoint", ids),
        "join": ("Join", dict(ids, SandboxKey="/var/run/docker/netns/abc", Options={})),
        "leave": ("Leave", ids),
        "program_external_connectivity": ("ProgramExternalConnectivity", dict(ids, Options={})),
        "revoke_external_connectivity": ("RevokeExternalConnectivity", ids),
        "allocate_network": ("AllocateNetwork", {"NetworkID": "4d5a1c0e9f", "Options": {}}),
        "free_network": ("FreeNetwork", {"NetworkID": "4d5a1c0e9f"}),
        "discover_new": ("DiscoverNew", {"DiscoveryType": 1, "DiscoveryData": {}}),
        "discover_delete": ("DiscoverDelete", {"DiscoveryType": 1, "DiscoveryData": {}}),
    }
    for name, (method, body) in requests.items():
        write(target, name, plugin_request("NetworkDriver." + method, body))


if __name__ == "__main__":
    sftp_corpus()
    tunnel_corpus()
    dns_corpus()
    volume_corpus()
    network_corpus()
