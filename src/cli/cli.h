/* cli: one entry point per subcommand; argv[0] is the subcommand's name. Return the exit status.
 *   cli_set_log_level(name)   "debug".."error" -> the log level; -1 when unknown */
#ifndef TE_CLI_H
#define TE_CLI_H
int cli_serve(int argc, char **argv);
int cli_broker(int argc, char **argv);
int cli_lorawan(int argc, char **argv);
int cli_sim(int argc, char **argv);
int cli_set_log_level(const char *name);
#endif
