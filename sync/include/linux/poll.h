/* kmc: <linux/poll.h>. poll_wait() registers the queue with the table. */
#ifndef _KMC_LINUX_POLL_H
#define _KMC_LINUX_POLL_H
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/fs.h>
typedef unsigned int __poll_t;
typedef struct poll_table_struct poll_table;
#define POLLIN 0x0001
#define POLLPRI 0x0002
#define POLLOUT 0x0004
#define POLLERR 0x0008
#define POLLHUP 0x0010
#define POLLRDNORM 0x0040
#define POLLWRNORM 0x0100
#define EPOLLIN POLLIN
#define EPOLLOUT POLLOUT
#define EPOLLERR POLLERR
#define EPOLLHUP POLLHUP
#define EPOLLRDNORM POLLRDNORM
#define EPOLLWRNORM POLLWRNORM
#define poll_wait(f, q, p) kmc_c_poll_wait((f), (q), (p), KMC_LOC)
#endif
