/* SPDX-License-Identifier: GPL-2.0 */
/*
 * scull.h -- definitions shared by the files of the scull module: main.c
 * (the bare devices scull0..N-1), pipe.c (the scullpipe FIFOs) and access.c
 * (the access-control devices). Behaviour, locking rules and seeded bugs:
 * docs/DRIVERS.md, scull.
 *
 * Written for kmc after LDD3's scull.h (chapters 3, 5 and 6, the semaphore
 * version). Like the book's header it includes only <linux/ioctl.h>: the
 * files that include it bring <linux/semaphore.h>, <linux/spinlock.h> and
 * <linux/cdev.h> first. It also compiles as C++ after kmc's ABI header, so
 * that models can read the module's state (drivers/scull/scull_view.h).
 */
#ifndef _SCULL_H_
#define _SCULL_H_

#include <linux/ioctl.h>	/* _IO, _IOW, _IOC_TYPE, ... */

#ifndef SCULL_MAJOR
#define SCULL_MAJOR 0		/* dynamic major by default */
#endif

#ifndef SCULL_NR_DEVS
#define SCULL_NR_DEVS 4		/* scull0 through scull3 */
#endif

#ifndef SCULL_P_NR_DEVS
#define SCULL_P_NR_DEVS 4	/* scullpipe0 through scullpipe3 */
#endif

/*
 * The bare device is a variable-length region of memory: a linked list of
 * quantum sets, each an array of SCULL_QSET pointers to areas of
 * SCULL_QUANTUM bytes.
 */
#ifndef SCULL_QUANTUM
#define SCULL_QUANTUM 4000
#endif

#ifndef SCULL_QSET
#define SCULL_QSET 1000
#endif

/* The pipe device is a circular buffer; this is its default size. */
#ifndef SCULL_P_BUFFER
#define SCULL_P_BUFFER 4000
#endif

/*
 * Seeded bugs of main.c, one bit each in the module parameter scull_bugs
 * (docs/DRIVERS.md, scull seeded bugs). Each is marked `BUG Bn` where it
 * changes the code; scull_bugs=0 is the correct driver.
 */
#define SCULL_BUG_UNLOCKED_WRITE	0x01	/* B1: write without dev->sem */
#define SCULL_BUG_MISSING_UP_ON_FAULT	0x02	/* B2: -EFAULT path keeps dev->sem */
#define SCULL_BUG_DOUBLE_UP		0x04	/* B3: -EFAULT path up()s twice */
#define SCULL_BUG_UNLOCKED_TRIM		0x08	/* B4: open trims without dev->sem */
#define SCULL_BUG_SNAPSHOT_BEFORE_LOCK	0x10	/* B5: LDD3's early quantum/qset read */
#define SCULL_BUG_SPINLOCK		0x20	/* PB8: dev->lock instead of dev->sem */
#define SCULL_BUG_UNCHECKED_KMALLOC	0x40	/* B10: unchecked pointer-array kmalloc */

/*
 * Seeded bugs of access.c, bits of the module parameter access_bugs
 * (docs/DRIVERS.md, scull access-control seeded bugs).
 */
#define SCULL_A_BUG_S1_TEST_THEN_DEC		0x01	/* S1: read, then dec */
#define SCULL_A_BUG_U1_SPLIT_CRITICAL_SECTION	0x02	/* U1: test, unlock, claim */
#define SCULL_A_BUG_W1_IF_NOT_WHILE		0x04	/* W1: no re-test after waking */
#define SCULL_A_BUG_W3_LOST_WAKEUP		0x08	/* W3: sleep without re-check */
#define SCULL_A_FIX_P1				0x10	/* P1 fixed: GFP_ATOMIC */

/* Quantum sets: data is an array of qset pointers to quanta, or NULL. */
struct scull_qset {
	void **data;
	struct scull_qset *next;
};

struct scull_dev {
	struct scull_qset *data;	/* pointer to the first quantum set */
	int quantum;			/* the current quantum size */
	int qset;			/* the current array size */
	unsigned long size;		/* amount of data stored here */
	unsigned int access_key;	/* used by sculluid and scullpriv */
	struct semaphore sem;		/* mutual exclusion semaphore */
	struct cdev cdev;		/* char device structure */
	spinlock_t lock;		/* only with SCULL_BUG_SPINLOCK */
};

/* Split minors in two parts. */
#define TYPE(minor)	(((minor) >> 4) & 0xf)	/* high nibble */
#define NUM(minor)	((minor) & 0xf)		/* low nibble */

/* The module parameters and globals (main.c, pipe.c). */
extern int scull_major;
extern int scull_minor;
extern int scull_nr_devs;
extern int scull_quantum;
extern int scull_qset;
extern int scull_p_buffer;
extern unsigned int scull_bugs;
extern struct scull_dev *scull_devices;	/* scull_nr_devs of them */

/* The other files of the module. */
int scull_p_init(dev_t dev);
void scull_p_cleanup(void);
int scull_access_init(dev_t dev);
void scull_access_cleanup(void);
/* kmc's addition: scullpriv on RCU (priv_rcu.c), after the access devices. */
int scull_priv_rcu_init(dev_t dev);
void scull_priv_rcu_cleanup(void);

/* Shared by the devices of main.c and access.c. */
int scull_trim(struct scull_dev *dev);
int scull_open(struct inode *inode, struct file *filp);
int scull_release(struct inode *inode, struct file *filp);
ssize_t scull_read(struct file *filp, char __user *buf, size_t count,
		   loff_t *f_pos);
ssize_t scull_write(struct file *filp, const char __user *buf, size_t count,
		    loff_t *f_pos);
loff_t scull_llseek(struct file *filp, loff_t off, int whence);
long scull_ioctl(struct file *filp, unsigned int cmd, unsigned long arg);

/*
 * Ioctl definitions. 'k' is the magic number.
 *
 * S means "Set" through a pointer,
 * T means "Tell" directly with the argument value,
 * G means "Get": reply by setting through a pointer,
 * Q means "Query": the response is the return value,
 * X means "eXchange": G and S at once,
 * H means "sHift": T and Q at once.
 */
#define SCULL_IOC_MAGIC 'k'

#define SCULL_IOCRESET		_IO(SCULL_IOC_MAGIC, 0)
#define SCULL_IOCSQUANTUM	_IOW(SCULL_IOC_MAGIC, 1, int)
#define SCULL_IOCSQSET		_IOW(SCULL_IOC_MAGIC, 2, int)
#define SCULL_IOCTQUANTUM	_IO(SCULL_IOC_MAGIC, 3)
#define SCULL_IOCTQSET		_IO(SCULL_IOC_MAGIC, 4)
#define SCULL_IOCGQUANTUM	_IOR(SCULL_IOC_MAGIC, 5, int)
#define SCULL_IOCGQSET		_IOR(SCULL_IOC_MAGIC, 6, int)
#define SCULL_IOCQQUANTUM	_IO(SCULL_IOC_MAGIC, 7)
#define SCULL_IOCQQSET		_IO(SCULL_IOC_MAGIC, 8)
#define SCULL_IOCXQUANTUM	_IOWR(SCULL_IOC_MAGIC, 9, int)
#define SCULL_IOCXQSET		_IOWR(SCULL_IOC_MAGIC, 10, int)
#define SCULL_IOCHQUANTUM	_IO(SCULL_IOC_MAGIC, 11)
#define SCULL_IOCHQSET		_IO(SCULL_IOC_MAGIC, 12)

/* The pipe devices only have "Tell" and "Query" of their buffer size. */
#define SCULL_P_IOCTSIZE	_IO(SCULL_IOC_MAGIC, 13)
#define SCULL_P_IOCQSIZE	_IO(SCULL_IOC_MAGIC, 14)

#define SCULL_IOC_MAXNR 14

#endif /* _SCULL_H_ */
