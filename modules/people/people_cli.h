/* people_cli.h - the people module's command-line subcommands. */
#ifndef ONETRIP_PEOPLE_CLI_H
#define ONETRIP_PEOPLE_CLI_H

#include "server/app.h"

#define PEOPLE_NCMDS 2
extern const app_cmd people_cmds[PEOPLE_NCMDS];

#endif
