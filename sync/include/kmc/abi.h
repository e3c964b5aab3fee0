/* kmc: the binary interface between C drivers and kmc's C++ runtime.
 *
 * Valid as GNU C (the <linux/...> headers of sync/include include it) and as
 * C++ (the glue in sync/capi/ includes it as "sync/include/kmc/abi.h", inside
 * namespace kmc::cabi). It defines:
 *   - struct kmc_loc, a source location laid out like std::source_location's
 *     record, so glue can hand a C call site to the C++ primitives;
 *   - the kernel objects (struct semaphore, spinlock_t, ...) with exactly the
 *     layout of their C++ counterparts in sync/ (the glue checks it with
 *     static_assert), so one implementation serves both languages;
 *   - the VFS structures a C driver sees (struct file, struct inode,
 *     struct cdev, struct file_operations);
 *   - the kmc_c_* entry points the headers' macros and inline functions call.
 * Driver code never uses this header directly.
 */
#ifndef KMC_ABI_H_
#define KMC_ABI_H_

#ifdef __cplusplus
#include <cstddef>
#include <cstdint>
namespace kmc::cabi {
extern "C" {
#define KMC_BOOL bool
#else
#include <stddef.h>
typedef __UINT32_TYPE__ uint32_t;
#define KMC_BOOL _Bool
#endif

typedef long long kmc_loff_t;
typedef unsigned int kmc_dev_t;

/* A call site: file, function, line. Same layout as std::source_location's
 * record in libstdc++ 12 (checked in sync/capi/loc.h). */
struct kmc_loc {
  const char *file;
  const char *function;
  unsigned line;
  unsigned column;
};

#ifndef __cplusplus
/* The call site of the macro that expands this, as a pointer to a static
 * record (no cost at run time). */
#define KMC_LOC                                                                \
  ({                                                                           \
    static const struct kmc_loc __kmc_here = {__FILE__, __func__, __LINE__, 0}; \
    &__kmc_here;                                                               \
  })
#endif

/* List heads (<linux/types.h>): plain pointers, read by models too. */
struct list_head {
  struct list_head *next, *prev;
};
struct hlist_head {
  struct hlist_node *first;
};
struct hlist_node {
  struct hlist_node *next, **pprev;
};

/* The per-execution engine state of a kernel object (sync/internal/handle.h). */
struct kmc_handle {
  uint32_t epoch;
  uint32_t index;
};

/* Kernel objects: same layout as the C++ structs of the same name. A zeroed
 * or statically initialized object is valid (the engine creates its state on
 * first use in every execution). */
struct semaphore {
  const char *__name;
  int __initial;
  KMC_BOOL __defined;
  struct kmc_handle __h;
};
struct mutex {
  const char *__name;
  KMC_BOOL __defined;
  struct kmc_handle __h;
};
typedef struct spinlock {
  const char *__name;
  KMC_BOOL __defined;
  struct kmc_handle __h;
} spinlock_t;
typedef struct {
  const char *__name;
  KMC_BOOL __defined;
  struct kmc_handle __h;
} rwlock_t;
struct rw_semaphore {
  const char *__name;
  KMC_BOOL __defined;
  struct kmc_handle __h;
};
struct completion {
  const char *__name;
  KMC_BOOL __defined;
  struct kmc_handle __h;
};
typedef struct wait_queue_head {
  const char *__name;
  KMC_BOOL __defined;
  struct kmc_handle __h;
} wait_queue_head_t;
struct wait_queue_entry {
  unsigned flags;
  int __task;
};
typedef struct wait_queue_entry wait_queue_entry_t;
typedef struct {
  int counter;
  struct kmc_handle __h;
} atomic_t;

struct tasklet_struct {
  const char *__name;
  void (*func)(unsigned long);
  unsigned long data;
  void (*callback)(struct tasklet_struct *);
  struct kmc_handle __h;
};
struct work_struct {
  const char *__name;
  void (*func)(struct work_struct *);
  struct kmc_handle __h;
};
struct timer_list {
  const char *__name;
  void (*function)(struct timer_list *);
  unsigned long expires;
  struct kmc_handle __h;
};

/* Sequence counters and seqlocks: same layout as kmc::kernel::seqcount_t
 * (its sequence is a checked field: value, then handle) and seqlock_t. */
typedef struct seqcount {
  unsigned __sequence;
  struct kmc_handle __sequence_h;
  const char *__name;
  struct kmc_handle __h;
} seqcount_t;
typedef struct {
  seqcount_t seqcount;
  spinlock_t lock;
} seqlock_t;

/* State of one wait_event*() in progress (sync/wait.cc drives it). */
struct kmc_wait_event {
  wait_queue_head_t *wq;
  struct wait_queue_entry entry;
  const char *fn;
  const char *cond;
  unsigned flags;
  int phase;
  long timeout;
  long result;
  const struct kmc_loc *loc;
};

/* ---- VFS ------------------------------------------------------------------ */
struct file;
struct inode;
struct poll_table_struct;
struct vm_area_struct;
struct module;

struct file_operations {
  struct module *owner;
  kmc_loff_t (*llseek)(struct file *, kmc_loff_t, int);
  long (*read)(struct file *, char *, size_t, kmc_loff_t *);
  long (*write)(struct file *, const char *, size_t, kmc_loff_t *);
  unsigned int (*poll)(struct file *, struct poll_table_struct *);
  long (*unlocked_ioctl)(struct file *, unsigned int, unsigned long);
  long (*compat_ioctl)(struct file *, unsigned int, unsigned long);
  int (*mmap)(struct file *, struct vm_area_struct *);
  int (*open)(struct inode *, struct file *);
  int (*flush)(struct file *, void *);
  int (*release)(struct inode *, struct file *);
  int (*fsync)(struct file *, kmc_loff_t, kmc_loff_t, int);
  int (*fasync)(int, struct file *, int);
};

struct cdev {
  struct module *owner;
  const struct file_operations *ops;
  kmc_dev_t dev;
  unsigned count;
  KMC_BOOL __added;
};

struct inode {
  kmc_dev_t i_rdev;
  struct cdev *i_cdev;
  void *i_private;
};

struct kmc_path {
  struct inode *__inode;
};

struct file {
  struct inode *f_inode;
  const struct file_operations *f_op;
  unsigned int f_flags;
  unsigned int f_mode;
  kmc_loff_t f_pos;
  void *private_data;
  const void *__owner_key; /* the opening process, for access-control drivers */
};

/* /proc entries (proc_create) and seq_file. The VFS synthesizes a
 * file_operations from a proc_ops: the member types are the same. */
struct proc_dir_entry;
struct proc_ops {
  unsigned int proc_flags;
  int (*proc_open)(struct inode *, struct file *);
  long (*proc_read)(struct file *, char *, size_t, kmc_loff_t *);
  long (*proc_write)(struct file *, const char *, size_t, kmc_loff_t *);
  kmc_loff_t (*proc_lseek)(struct file *, kmc_loff_t, int);
  int (*proc_release)(struct inode *, struct file *);
  unsigned int (*proc_poll)(struct file *, struct poll_table_struct *);
  long (*proc_ioctl)(struct file *, unsigned int, unsigned long);
  int (*proc_mmap)(struct file *, struct vm_area_struct *);
};
struct seq_file;
struct seq_operations {
  void *(*start)(struct seq_file *m, kmc_loff_t *pos);
  void (*stop)(struct seq_file *m, void *v);
  void *(*next)(struct seq_file *m, void *v, kmc_loff_t *pos);
  int (*show)(struct seq_file *m, void *v);
};
struct seq_file {
  char *buf;      /* the text made by the last pass over the iterator */
  size_t size;    /* bytes allocated for buf */
  size_t count;   /* bytes of text in buf */
  kmc_loff_t index;
  const struct seq_operations *op;
#ifdef __cplusplus
  void *private_; /* `private` in C; a keyword in C++ */
#else
  void *private;
#endif
  struct file *file;
  /* kmc: single_open()'s show and operations live here */
  int (*__single_show)(struct seq_file *m, void *v);
  struct seq_operations __single_op;
  KMC_BOOL __filled;
};

/* ---- entry points (sync/capi/) ---------------------------------------- */
typedef const struct kmc_loc *kmc_loc_t;

/* printk and reports */
int kmc_c_printk(kmc_loc_t loc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void kmc_c_bug(const char *expr, const char *kind, kmc_loc_t loc) __attribute__((noreturn));
void kmc_c_warn(const char *expr, kmc_loc_t loc);

/* memory */
void *kmc_c_kmalloc(size_t size, unsigned flags, KMC_BOOL zero, const char *fn, kmc_loc_t loc);
void kmc_c_kfree(const void *p, kmc_loc_t loc);
size_t kmc_c_ksize(const void *p);
void *kmc_c_memcpy(void *dst, const void *src, size_t n, kmc_loc_t loc);
void *kmc_c_memmove(void *dst, const void *src, size_t n, kmc_loc_t loc);
void *kmc_c_memset(void *dst, int c, size_t n, kmc_loc_t loc);
struct page *kmc_c_alloc_pages(unsigned flags, unsigned order, kmc_loc_t loc);
void kmc_c_free_pages(struct page *p, unsigned order, kmc_loc_t loc);
void *kmc_c_page_address(const struct page *p);
unsigned long kmc_c_page_to_pfn(const struct page *p);
struct page *kmc_c_pfn_to_page(unsigned long pfn);
unsigned long kmc_c_copy_to_user(void *to, const void *from, unsigned long n, kmc_loc_t loc);
unsigned long kmc_c_copy_from_user(void *to, const void *from, unsigned long n, kmc_loc_t loc);
/* 0 or -EFAULT; copies `size` bytes between *val and the user address */
int kmc_c_get_user(void *val, const void *uptr, size_t size, kmc_loc_t loc);
int kmc_c_put_user(const void *val, void *uptr, size_t size, kmc_loc_t loc);
int kmc_c_remap_pfn_range(struct vm_area_struct *vma, unsigned long addr, unsigned long pfn,
                          unsigned long size, unsigned long prot, kmc_loc_t loc);

/* locks */
void kmc_c_sema_init(struct semaphore *s, int val, const char *name, kmc_loc_t loc);
void kmc_c_down(struct semaphore *s, kmc_loc_t loc);
int kmc_c_down_interruptible(struct semaphore *s, kmc_loc_t loc);
int kmc_c_down_killable(struct semaphore *s, kmc_loc_t loc);
int kmc_c_down_trylock(struct semaphore *s, kmc_loc_t loc);
void kmc_c_up(struct semaphore *s, kmc_loc_t loc);
void kmc_c_mutex_init(struct mutex *m, const char *name, kmc_loc_t loc);
void kmc_c_mutex_lock(struct mutex *m, kmc_loc_t loc);
int kmc_c_mutex_lock_interruptible(struct mutex *m, kmc_loc_t loc);
int kmc_c_mutex_lock_killable(struct mutex *m, kmc_loc_t loc);
int kmc_c_mutex_trylock(struct mutex *m, kmc_loc_t loc);
void kmc_c_mutex_unlock(struct mutex *m, kmc_loc_t loc);
int kmc_c_mutex_is_locked(struct mutex *m, kmc_loc_t loc);
void kmc_c_spin_lock_init(spinlock_t *l, const char *name, kmc_loc_t loc);
/* how: 0 plain, 1 _irq, 2 _bh */
void kmc_c_spin_lock(spinlock_t *l, int how, kmc_loc_t loc);
void kmc_c_spin_unlock(spinlock_t *l, int how, kmc_loc_t loc);
unsigned long kmc_c_spin_lock_irqsave(spinlock_t *l, kmc_loc_t loc);
void kmc_c_spin_unlock_irqrestore(spinlock_t *l, unsigned long flags, kmc_loc_t loc);
int kmc_c_spin_trylock(spinlock_t *l, kmc_loc_t loc);
int kmc_c_spin_is_locked(spinlock_t *l, kmc_loc_t loc);
void kmc_c_rwlock_init(rwlock_t *l, const char *name, kmc_loc_t loc);
/* write: 0 read_lock, 1 write_lock; how as for spinlocks */
void kmc_c_rwlock_lock(rwlock_t *l, int write, int how, kmc_loc_t loc);
void kmc_c_rwlock_unlock(rwlock_t *l, int write, int how, kmc_loc_t loc);
unsigned long kmc_c_rwlock_lock_irqsave(rwlock_t *l, int write, kmc_loc_t loc);
void kmc_c_rwlock_unlock_irqrestore(rwlock_t *l, int write, unsigned long flags, kmc_loc_t loc);
void kmc_c_init_rwsem(struct rw_semaphore *s, const char *name, kmc_loc_t loc);
void kmc_c_down_read(struct rw_semaphore *s, kmc_loc_t loc);
int kmc_c_down_read_trylock(struct rw_semaphore *s, kmc_loc_t loc);
void kmc_c_up_read(struct rw_semaphore *s, kmc_loc_t loc);
void kmc_c_down_write(struct rw_semaphore *s, kmc_loc_t loc);
int kmc_c_down_write_trylock(struct rw_semaphore *s, kmc_loc_t loc);
void kmc_c_up_write(struct rw_semaphore *s, kmc_loc_t loc);
void kmc_c_downgrade_write(struct rw_semaphore *s, kmc_loc_t loc);

/* completions */
void kmc_c_init_completion(struct completion *c, const char *name, kmc_loc_t loc);
void kmc_c_reinit_completion(struct completion *c, kmc_loc_t loc);
void kmc_c_wait_for_completion(struct completion *c, kmc_loc_t loc);
int kmc_c_wait_for_completion_interruptible(struct completion *c, kmc_loc_t loc);
unsigned long kmc_c_wait_for_completion_timeout(struct completion *c, unsigned long t,
                                                kmc_loc_t loc);
int kmc_c_try_wait_for_completion(struct completion *c, kmc_loc_t loc);
int kmc_c_completion_done(struct completion *c, kmc_loc_t loc);
void kmc_c_complete(struct completion *c, kmc_loc_t loc);
void kmc_c_complete_all(struct completion *c, kmc_loc_t loc);

/* wait queues and the current task */
void kmc_c_init_waitqueue_head(wait_queue_head_t *q, const char *name, kmc_loc_t loc);
/* which: 0 wake_up, 1 _all, 2 _interruptible, 3 _interruptible_all,
 * 4 _interruptible_sync; nr for the _nr forms (0: default) */
void kmc_c_wake_up(wait_queue_head_t *q, int which, int nr, kmc_loc_t loc);
void kmc_c_prepare_to_wait(wait_queue_head_t *q, struct wait_queue_entry *w, int state,
                           KMC_BOOL exclusive, kmc_loc_t loc);
void kmc_c_finish_wait(wait_queue_head_t *q, struct wait_queue_entry *w, kmc_loc_t loc);
int kmc_c_waitqueue_active(wait_queue_head_t *q, kmc_loc_t loc);
void kmc_c_set_current_state(int state, KMC_BOOL barrier, kmc_loc_t loc);
void kmc_c_schedule(kmc_loc_t loc);
long kmc_c_schedule_timeout(long timeout, kmc_loc_t loc);
void kmc_c_wait_event_begin(struct kmc_wait_event *w, wait_queue_head_t *q, const char *fn,
                            const char *cond, unsigned flags, long timeout, kmc_loc_t loc);
/* Returns 1 when the condition must be evaluated (again) and passed back. */
int kmc_c_wait_event_next(struct kmc_wait_event *w, int cond);
/* The reads of a wait_event*() condition are marked accesses. */
void kmc_c_marked_enter(void);
void kmc_c_marked_exit(void);
void kmc_c_poll_wait(struct file *f, wait_queue_head_t *q, struct poll_table_struct *p,
                     kmc_loc_t loc);
int kmc_c_signal_pending(void);
void kmc_c_might_sleep(kmc_loc_t loc);
int kmc_c_in_atomic(void);
int kmc_c_in_interrupt(void);
int kmc_c_irqs_disabled(void);
int kmc_c_current_pid(void);
const char *kmc_c_current_comm(void);
unsigned kmc_c_current_uid(void);
unsigned kmc_c_current_euid(void);
int kmc_c_capable(int cap);
int kmc_c_smp_processor_id(void);

/* atomics, bit operations, barriers. op: see sync/capi/atomic.cc */
int kmc_c_atomic_read(const atomic_t *v, kmc_loc_t loc);
void kmc_c_atomic_set(atomic_t *v, int i, kmc_loc_t loc);
int kmc_c_atomic_op(atomic_t *v, int op, int a, int b, kmc_loc_t loc);
/* kind: 0 smp_mb, 1 smp_wmb, 2 smp_rmb, 3 before_atomic, 4 after_atomic */
void kmc_c_barrier(int kind, kmc_loc_t loc);
/* READ_ONCE/WRITE_ONCE & co. order: 0 relaxed, 1 acquire, 2 release */
void kmc_c_marked_load(const volatile void *p, void *out, size_t size, int order,
                       const char *op, kmc_loc_t loc);
void kmc_c_marked_store(volatile void *p, const void *in, size_t size, int order,
                        const char *op, kmc_loc_t loc);
/* data_race(): 1 before the expression, 0 after it */
void kmc_c_data_race(int begin);

/* interrupts and deferred work */
unsigned long kmc_c_local_irq_save(kmc_loc_t loc);
void kmc_c_local_irq_restore(unsigned long flags, kmc_loc_t loc);
/* op: 0 irq_disable, 1 irq_enable, 2 bh_disable, 3 bh_enable */
void kmc_c_local_irq_op(int op, kmc_loc_t loc);
int kmc_c_in_irq(void);
int kmc_c_in_softirq(void);
void kmc_c_tasklet_init(struct tasklet_struct *t, const char *name);
void kmc_c_tasklet_schedule(struct tasklet_struct *t, KMC_BOOL hi, kmc_loc_t loc);
void kmc_c_tasklet_kill(struct tasklet_struct *t, kmc_loc_t loc);
void kmc_c_init_work(struct work_struct *w, void (*fn)(struct work_struct *), const char *name);
int kmc_c_schedule_work(struct work_struct *w, kmc_loc_t loc);
int kmc_c_flush_work(struct work_struct *w, kmc_loc_t loc);
int kmc_c_cancel_work_sync(struct work_struct *w, kmc_loc_t loc);
void kmc_c_timer_setup(struct timer_list *t, void (*fn)(struct timer_list *), unsigned flags,
                       const char *name);
int kmc_c_mod_timer(struct timer_list *t, unsigned long expires, kmc_loc_t loc);
int kmc_c_del_timer(struct timer_list *t, KMC_BOOL sync, kmc_loc_t loc);
int kmc_c_timer_pending(const struct timer_list *t);
int kmc_c_request_irq(unsigned irq, int (*handler)(int, void *), unsigned long flags,
                      const char *name, void *dev, kmc_loc_t loc);
void kmc_c_free_irq(unsigned irq, void *dev, kmc_loc_t loc);

/* character devices and modules (sync/module.cc, sync/vfs.cc) */
int kmc_c_alloc_chrdev_region(kmc_dev_t *dev, unsigned first, unsigned count,
                              const char *name, kmc_loc_t loc);
int kmc_c_register_chrdev_region(kmc_dev_t first, unsigned count, const char *name,
                                 kmc_loc_t loc);
void kmc_c_unregister_chrdev_region(kmc_dev_t first, unsigned count, kmc_loc_t loc);
int kmc_c_register_chrdev(unsigned major, const char *name, const struct file_operations *fops,
                          kmc_loc_t loc);
void kmc_c_unregister_chrdev(unsigned major, const char *name, kmc_loc_t loc);
void kmc_c_cdev_init(struct cdev *c, const struct file_operations *fops);
int kmc_c_cdev_add(struct cdev *c, kmc_dev_t dev, unsigned count, kmc_loc_t loc);
void kmc_c_cdev_del(struct cdev *c, kmc_loc_t loc);
/* Called from a module's constructors (tools/kmc.bzl generates them). */
void kmc_c_module_region(const char *module, void *start, void *stop);
void kmc_c_module_init_fn(const char *module, int (*fn)(void), kmc_loc_t loc);
void kmc_c_module_exit_fn(const char *module, void (*fn)(void), kmc_loc_t loc);
/* type: "int", "uint", "long", "ulong", "short", "ushort", "bool", "charp", "byte" */
void kmc_c_module_param(const char *module, const char *name, const char *type, void *addr,
                        size_t elem_size, unsigned *count, unsigned max_count);

/* sequence counters and seqlocks (sync/capi/c_api.cc).
 * barrier: 1 with the smp_rmb() of read_seqcount_begin/retry, 0 for the
 * __ forms; how: 0 plain, 1 _irq, 2 _bh */
void kmc_c_seqcount_init(seqcount_t *s, const char *name, kmc_loc_t loc);
unsigned kmc_c_read_seqcount_begin(const seqcount_t *s, int barrier, kmc_loc_t loc);
int kmc_c_read_seqcount_retry(const seqcount_t *s, unsigned start, int barrier, kmc_loc_t loc);
void kmc_c_write_seqcount_begin(seqcount_t *s, kmc_loc_t loc);
void kmc_c_write_seqcount_end(seqcount_t *s, kmc_loc_t loc);
void kmc_c_seqlock_init(seqlock_t *sl, const char *name, kmc_loc_t loc);
unsigned kmc_c_read_seqbegin(const seqlock_t *sl, kmc_loc_t loc);
int kmc_c_read_seqretry(const seqlock_t *sl, unsigned start, kmc_loc_t loc);
void kmc_c_write_seqlock(seqlock_t *sl, int how, kmc_loc_t loc);
void kmc_c_write_sequnlock(seqlock_t *sl, int how, kmc_loc_t loc);
unsigned long kmc_c_write_seqlock_irqsave(seqlock_t *sl, kmc_loc_t loc);
void kmc_c_write_sequnlock_irqrestore(seqlock_t *sl, unsigned long flags, kmc_loc_t loc);
void kmc_c_read_seqlock_excl(seqlock_t *sl, int how, kmc_loc_t loc);
void kmc_c_read_sequnlock_excl(seqlock_t *sl, int how, kmc_loc_t loc);

/* /proc and seq_file (sync/vfs.cc, sync/capi/c_api.cc). parent: only NULL
 * (the /proc root) is modelled. */
struct proc_dir_entry *kmc_c_proc_create(const char *name, unsigned mode,
                                         struct proc_dir_entry *parent,
                                         const struct proc_ops *ops, void *data,
                                         kmc_loc_t loc);
struct proc_dir_entry *kmc_c_proc_create_single(const char *name, unsigned mode,
                                                struct proc_dir_entry *parent,
                                                int (*show)(struct seq_file *, void *),
                                                void *data, kmc_loc_t loc);
void kmc_c_remove_proc_entry(const char *name, struct proc_dir_entry *parent, kmc_loc_t loc);
void kmc_c_proc_remove(struct proc_dir_entry *e, kmc_loc_t loc);
int kmc_c_seq_open(struct file *f, const struct seq_operations *op, kmc_loc_t loc);
int kmc_c_single_open(struct file *f, int (*show)(struct seq_file *, void *), void *data,
                      kmc_loc_t loc);
long kmc_c_seq_read(struct file *f, char *buf, size_t count, kmc_loff_t *ppos);
kmc_loff_t kmc_c_seq_lseek(struct file *f, kmc_loff_t offset, int whence);
int kmc_c_seq_release(struct inode *inode, struct file *f);
int kmc_c_single_release(struct inode *inode, struct file *f);
void kmc_c_seq_printf(struct seq_file *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void kmc_c_seq_write(struct seq_file *m, const void *data, size_t len);

/* RCU (sync/rcupdate.h): readers, grace periods */
void kmc_c_rcu_read_lock(kmc_loc_t loc);
void kmc_c_rcu_read_unlock(kmc_loc_t loc);
void kmc_c_synchronize_rcu(kmc_loc_t loc);

/* fasync (sync/capi/c_api.cc): the list of files that asked for SIGIO. */
struct fasync_struct {
  int magic;
  int fa_fd;
  struct fasync_struct *fa_next;
  struct file *fa_file;
};
int kmc_c_fasync_helper(int fd, struct file *filp, int on, struct fasync_struct **fapp,
                        kmc_loc_t loc);
void kmc_c_kill_fasync(struct fasync_struct **fp, int sig, int band, kmc_loc_t loc);

#ifdef __cplusplus
}  // extern "C"
}  // namespace kmc::cabi
#endif
#undef KMC_BOOL
#endif /* KMC_ABI_H_ */
