/*
 * main.c - the latchkey binary's entry point: one binary, many doors. The
 * commands, their flags and the usage are the table in cli/commands.c
 * (`latchkey --help` lists them); this file only hands the process to it.
 */
#include "cli/cli.h"

int main(int argc, char **argv) {
    return cli_main(argc, argv);
}
