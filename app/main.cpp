#include "app/cli.hpp"

int main(int argc, char** argv) { return zpark::app::run_cli(argc, argv); }
