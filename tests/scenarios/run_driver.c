/*
 * run_driver.c - `efksim-run-driver run|validate ...`: the runner's commands
 * without the rest of the efksim command line, for the scenario tests of a
 * build that has no runner/main.c yet.
 */
#include <stdio.h>
#include <string.h>

#include "run_cli.h"

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "run") == 0)
        return run_cmd_run(argc - 2, argv + 2);
    if (argc >= 2 && strcmp(argv[1], "validate") == 0)
        return run_cmd_validate(argc - 2, argv + 2);
    fprintf(stderr, "usage: %s run|validate ARGS...\n", argv[0]);
    return 2;
}
