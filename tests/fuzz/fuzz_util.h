/* fuzz_util.h - small helpers shared by the libFuzzer harnesses. */
#ifndef ONETRIP_FUZZ_UTIL_H
#define ONETRIP_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* data as a NUL-terminated malloc'd string (embedded NULs cut it short,
 * as a C string reader would see it). */
static inline char *fuzz_str(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (s == NULL)
        abort();
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* A property the parser promises was broken: report and crash so the
 * fuzzer keeps the input. */
#define FUZZ_ASSERT(cond)                                                          \
    do {                                                                           \
        if (!(cond)) {                                                             \
            fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                               \
        }                                                                          \
    } while (0)

/* Splits s in place at the first '\n': returns the rest (or "" when none). */
static inline char *fuzz_line(char *s)
{
    char *nl = strchr(s, '\n');
    if (nl == NULL)
        return s + strlen(s);
    *nl = '\0';
    return nl + 1;
}

#endif
