#pragma once
// `zpark` command line: serve (default), check, version, help.
namespace zpark::app {
int run_cli(int argc, char** argv);
}
