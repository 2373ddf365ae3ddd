/* Channel name patterns: exact names and shell-style globs. */
#ifndef LG_GLOB_H
#define LG_GLOB_H

/* Return 1 when NAME matches PATTERN, 0 otherwise. PATTERN is a shell glob
 * (fnmatch(3) without flags): '*' matches any run of characters, dots
 * included, '?' one character, '[abc]' a set; '\' escapes the next
 * character. A pattern without wildcards matches only the same name. */
int lg_glob_match(const char *pattern, const char *name);

/* Return 1 when PATTERN contains a wildcard character. */
int lg_glob_has_wildcard(const char *pattern);

#endif
