/* kmc: <linux/seq_file.h>: the text of a /proc (or device) file made by a
 * show function, read back with seq_read().
 *
 * seq_read() at offset 0 (or on the first read) runs the iterator from the
 * start (start, show, next, ..., stop; single_open(): show once) and keeps
 * the whole text; reads at other offsets are served from that text. (The
 * kernel fills one buffer per read() call instead: the locks a start()
 * takes are held for one pass either way.) seq_file memory comes from
 * kmalloc, so a missing single_release() is a kmemleak report. */
#ifndef _KMC_LINUX_SEQ_FILE_H
#define _KMC_LINUX_SEQ_FILE_H
#include <linux/types.h>
#include <linux/fs.h>

#define SEQ_START_TOKEN ((void *)1)
#define seq_open(file, op) kmc_c_seq_open((file), (op), KMC_LOC)
#define single_open(file, show, data) kmc_c_single_open((file), (show), (data), KMC_LOC)
#define seq_read kmc_c_seq_read
#define seq_lseek kmc_c_seq_lseek
#define seq_release kmc_c_seq_release
#define single_release kmc_c_single_release
#define seq_printf kmc_c_seq_printf
#define seq_write kmc_c_seq_write
static inline void seq_puts(struct seq_file *m, const char *s) {
  kmc_c_seq_write(m, s, __builtin_strlen(s));
}
static inline void seq_putc(struct seq_file *m, char c) { kmc_c_seq_write(m, &c, 1); }
#endif
