"""Bad input to the real executables: the real tools' message and exit status
for each case (including their odd ones), and the store unchanged after all
of them (compared through GET /rbd/v1/state)."""
from rbdfake import Server, check, finish

CASES = {
    "jewel": [
        (["rbd", "lock", "foo", "img"], 1, b"error: unknown option 'lock foo img'\n\n"),
        (["rbd", "lock", "add"], 22, b"rbd: image name was not specified\n"),
        (["rbd", "lock", "add", "img"], 22, b"rbd: lock id was not specified\n"),
        (["rbd", "lock", "remove", "img", "kubelet_lock_magic_node1"], 22,
         b"rbd: locker was not specified\n"),
        (["rbd", "lock", "remove", "img", "kubelet_lock_magic_node1", ""], 22,
         b"rbd: locker was not specified\n"),
        (["rbd", "lock", "remove", "img", "kubelet_lock_magic_node1", "client.4261 "], 22,
         b"rbd: releasing lock failed: (22) Invalid argument\n"),
        (["rbd", "lock", "ls", "a/b/c"], 22, b"rbd: invalid spec 'a/b/c'\n"),
        (["rbd", "lock", "ls", "img@snap"], 22,
         b"rbd: snapname specified for a command that doesn't use it\n"),
        (["rbd", "lock", "ls", "img", "--format", "yaml"], 1,
         b"rbd: the argument ('yaml') for option '--format' is invalid\n\n"),
        (["rbd", "lock", "ls", "img", "--pool"], 1,
         b"rbd: the required argument for option '--pool' is missing\n\n"),
        (["rbd", "lock", "ls", "img", "--frobnicate"], 1,
         b"rbd: unrecognised option '--frobnicate'\n\n"),
        (["rbd", "lock", "ls", "nope"], 2,
         b"rbd: error opening image nope: (2) No such file or directory\n"),
        (["rbd", "lock", "ls", "nopool/img"], 2,
         b"rbd: error opening pool nopool: (2) No such file or directory\n"),
        (["rbd", "create", "img2"], 22, b"rbd: must specify --size <M/G/T>\n"),
        (["rbd", "create", "img2", "--size", "lots"], 1,
         b"rbd: the argument ('lots') for option '--size' is invalid\n\n"),
        (["ceph", "osd", "blocklist", "add", "10.0.0.1"], 22, None),
        (["ceph", "osd", "blacklist", "add", "10.0.0.x"], 22,
         b"Invalid command:  10.0.0.x: invalid IPv4 address\nosd blacklist add|rm "
         b"<EntityAddr> {<float[0.0-]>} :  add (optionally until <expire> seconds from now) or "
         b"remove <addr> from blacklist\nError EINVAL: invalid command\n"),
    ],
    "reef": [
        (["rbd", "lock", "ls", "img", "extra"], 1, b"rbd: too many arguments\n"),
        (["rbd", "lock", "ls", "img", "--pretty-format"], 22,
         b"rbd: --pretty-format only works when --format is json or xml\n"),
        (["rbd", "lock", "ls", "img", "--frobnicate"], 1,
         b"rbd: unrecognised option '--frobnicate'\n"),
        (["rbd", "lock", "ls", "nopool/img"], 2,
         b"rbd: error opening pool 'nopool': (2) No such file or directory\n"),
        (["rbd", "lock", "ls", "rbd/nons/img"], 2, b"rbd: namespace 'nons' does not exist.\n"),
        (["rbd", "lock", "rm", "img", "x", "client.1", "--rbd_blacklist_on_break_lock=false"], 1,
         b"rbd: unrecognised option '--rbd_blacklist_on_break_lock=false'\n"),
        (["ceph", "osd", "blocklist", "range", "add", "10.1.0.0/40"], 22,
         b"Error EINVAL: Too many bits in range for that protocol!\n"),
        (["ceph", "osd", "blocklist", "rare", "add", "10.1.0.0/16"], 22,
         b"Error EINVAL: Did you mean to specify \"osd blocklist range\"?\n"),
        (["ceph", "osd", "blocklist", "bogus"], 22, None),
        (["ceph", "-f", "yaml", "osd", "blocklist", "ls"], 2, None),
    ],
}

for release, cases in CASES.items():
    srv = Server({"release": release, "pools": [{"name": "rbd", "images": [
        {"name": "img", "size": "1G"}]}],
        "locks": [{"image": "rbd/img", "id": "kubelet_lock_magic_node1",
                   "locker": "client.4261", "address": "10.0.0.1:0/1"}]})
    try:
        def state():
            st = srv.get("/rbd/v1/state")
            for k in ("clients", "next_client_id", "audit_last_seq"):
                st.pop(k)
            return st
        before = state()
        for argv, code, err in CASES[release]:
            rc, out, e = srv.run(*argv)
            check(rc == code, "%s %r: exit %d, expected %d (%r)" % (release, argv, rc, code, e))
            if err is not None:
                check(e == err, "%s %r: stderr %r" % (release, argv, e))
            elif argv[0] == "ceph" and code == 22:
                check(e.endswith(b"Error EINVAL: invalid command\n"), "%s %r: %r" %
                      (release, argv, e))
        check(state() == before, "%s: the store changed" % release)
    finally:
        srv.stop()
finish()
