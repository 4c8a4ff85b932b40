#ifndef BC_APP_COMMAND_H
#define BC_APP_COMMAND_H

/*
 * Subcommands of the `backchannel` binary.  Each src/app/cmd_*.c registers
 * its own with COMMAND(), so adding one touches no shared table:
 *
 *   static int cmd_keygen(int argc, char **argv) { ... }
 *   COMMAND(keygen, "write a new key pair", cmd_keygen)
 *
 * run() gets argv with argv[0] set to the subcommand's name.  Exit status:
 * 0 success, 1 failure at run time, 2 bad usage or configuration.  Every
 * subcommand answers --help.
 */
struct command {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv);
};

#define EXIT_USAGE 2

void command_register(const struct command *c);

#define COMMAND(name_, summary_, fn_)                                          \
	static const struct command command_##name_ = {#name_, summary_, fn_}; \
	__attribute__((constructor)) static void command_reg_##name_(void)     \
	{                                                                      \
		command_register(&command_##name_);                            \
	}

/* True when argv holds -h or --help. */
int command_wants_help(int argc, char **argv);

#endif
