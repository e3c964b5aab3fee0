/* kmc: <linux/string.h>. memcpy/memset/memmove over kernel memory are
 * checked (use after free, bounds, data races). */
#ifndef _KMC_LINUX_STRING_H
#define _KMC_LINUX_STRING_H
#include <linux/types.h>
#define memcpy(d, s, n) kmc_c_memcpy((d), (s), (n), KMC_LOC)
#define memmove(d, s, n) kmc_c_memmove((d), (s), (n), KMC_LOC)
#define memset(d, c, n) kmc_c_memset((d), (c), (n), KMC_LOC)
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t n);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
int memcmp(const void *a, const void *b, size_t n);
char *strcpy(char *d, const char *s);
char *strncpy(char *d, const char *s, size_t n);
char *strchr(const char *s, int c);
#endif
