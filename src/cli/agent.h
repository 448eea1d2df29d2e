/*
 * agent.h - `latchkey agent` (agent.c; docs/identity.md, "The agent"): a
 * client command, so it sees neither the command table (cli.h, the
 * server's layer) nor the store; commands.c's row hands it its words.
 */
#ifndef LK_CLI_AGENT_H
#define LK_CLI_AGENT_H

/* Runs the agent with the words after "agent". The process exit status. */
int agent_main(int argc, char **argv);

#endif
