/* tinyedge serve: placeholder until the server wiring lands. */
#include <stdio.h>
#include "cli/cli.h"
int cli_serve(int argc, char **argv) { fprintf(stderr, "serve: not yet\n"); return 1; }
int cli_broker(int argc, char **argv) { fprintf(stderr, "broker: not yet\n"); return 1; }
