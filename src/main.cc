// trawl: network forensics and sandbox networking. See README.md.
#include "app/cli.h"

int main(int argc, char** argv) { return trawl::app::run_cli(argc, argv); }
