/* ceph - the fake Ceph `ceph` tool, `osd blocklist` only (see fakes/rbd/rbd_tool.h). */
#include "cli_transport.h"

int main(int argc, char **argv)
{
    return cli_main(argc, argv, ceph_tool_run);
}
