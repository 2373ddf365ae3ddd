/* Glob matching for channel rules, built on fnmatch(3). */
#include "config.h"

#include <fnmatch.h>
#include <string.h>

#include "glob.h"

int lg_glob_match(const char *pattern, const char *name)
{
    return fnmatch(pattern, name, 0) == 0;
}

int lg_glob_has_wildcard(const char *pattern)
{
    return strpbrk(pattern, "*?[\\") != NULL;
}
