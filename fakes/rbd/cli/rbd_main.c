/* rbd - the fake Ceph `rbd` tool (see fakes/rbd/rbd_tool.h). */
#include "cli_transport.h"

int main(int argc, char **argv)
{
    return cli_main(argc, argv, rbd_tool_run);
}
