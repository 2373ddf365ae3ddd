/* livegate test: run the tests: section of a configuration against its channel scripts. */
#ifndef LG_SCRIPT_TESTS_H
#define LG_SCRIPT_TESTS_H

#include <stdio.h>

#include "settings.h"

/* Run every test of SETTINGS, each with fresh scripts and a clock of its
 * own, and print one result line per test to OUT, the differences of the
 * failed ones, and a last line "N passed, N failed". Returns the number of
 * failed tests, or -1 after printing why the tests could not run. */
int lg_script_tests_run(const lg_settings *settings, FILE *out);

#endif
