/* The scripts of a configuration's channel rules: compiled together, freed together. */
#ifndef LG_RULE_SCRIPTS_H
#define LG_RULE_SCRIPTS_H

#include "error.h"
#include "lua_script.h"
#include "settings.h"

/* Compile the script of every channel rule of SETTINGS that has one into
 * *SCRIPTS (an array with one entry per rule, NULL where a rule has none),
 * each with HOST. Returns 0, or -1 with ERR set to "FILE:LINE:COLUMN:
 * channels[I] (match 'M'): reason" and *SCRIPTS NULL. */
int lg_rule_scripts_load(const lg_settings *settings, const lg_script_host *host, lg_script ***scripts,
                         lg_error *err);

/* Free SCRIPTS, an array of COUNT entries from lg_rule_scripts_load. */
void lg_rule_scripts_free(lg_script **scripts, size_t count);

#endif
