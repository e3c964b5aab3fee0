// asgn2: COSC440 assignment 2, an interrupt-driven reader for the course's
// dummy GPIO port, re-modelled over the kmc kernel API.
//
// Behaviour: docs/DRIVERS.md, asgn2 (reconstructed from the
// course's dummy-GPIO API and several student drivers; no single original
// exists, so the [variant] choices are stated below). Data path:
//
//   GPIO half-byte interrupt (HARDIRQ, dummyport_interrupt)
//     -> circular buffer (cb_lock)                    two interrupts per byte,
//     -> tasklet (SOFTIRQ, asgn2_do_tasklet)          most significant first
//     -> page queue (pq_lock, pages from alloc_page(GFP_ATOMIC))
//     -> read() (PROC, sleeps on read_wq)             one file per open,
//                                                     '\0' ends a file
//
// Locks and contexts (docs/DRIVERS.md, asgn2 locking rules):
//   cb_lock   HARDIRQ: spin_lock (irqs are off already); SOFTIRQ:
//             spin_lock_irqsave (the handler may interrupt the tasklet).
//   pq_lock   SOFTIRQ: spin_lock; PROC: spin_lock_bh (the tasklet may run at
//             irq exit on the reader's CPU). Never taken in HARDIRQ.
//   Lock order: cb_lock and pq_lock are never nested (the tasklet drops
//   cb_lock before it takes pq_lock). Nothing sleeps under a spinlock: the
//   tasklet allocates with GFP_ATOMIC, read() copies to the user after
//   spin_unlock_bh() from a bounce buffer.
//
// [variant] choices (where the originals differ; docs/DRIVERS.md, asgn2):
//   * circular buffer: `start`/`count` over a kmalloc'd byte array of
//     cb_size bytes; a byte that finds it full is dropped and counted
//     (cb_dropped), JetHughes' policy;
//   * the tasklet drains everything the buffer holds when it starts (a
//     schedule that arrives while it runs re-raises it), appends it under
//     pq_lock, counts '\0's as finished files, then wakes read_wq;
//   * read() waits until the queue holds any data (not a whole file), copies
//     up to the next '\0' (which it consumes but never returns) and marks
//     the open finished: later reads on that open return 0;
//   * open is read-only (-EACCES otherwise) and non-blocking: a second
//     concurrent open gets -EBUSY (max_nprocs 1); release keeps the rest of
//     a partially read file for the next open.
//
// Differences from a C driver, forced by the model checker:
//   * Module state lives in struct asgn2_dev_t, which a model owns (one per
//     execution); the model sets the parameters and the bug mask, then calls
//     asgn2_init_module(). Fields the locks protect are Shared<T>.
//   * The dummy GPIO (gpio.c of the course) is struct gpio_dummy: the model
//     loads it with the generator's bytes and its interrupt source calls
//     gpio_dummy_fire(), which latches the next half-byte and runs the
//     requested handler. request_irq()/free_irq() here register with that
//     struct (kmc has no irq descriptors). kmc's free_irq() has no
//     synchronize_irq(): it must run on the CPU the line is bound to, where
//     no handler can be in progress while process context runs. Called from
//     another CPU while the line fires, its store to `action` races with the
//     handler's load and the race detector says so. (A descriptor lock held
//     around the handler would make it general, at two scheduling steps per
//     interrupt; the models cannot afford them.)
//   * page_bytes: the bytes of each page the queue uses (PAGE_SIZE in the
//     driver; a model may lower it so that a few bytes cross pages).
//   * Each device carries a bug mask (ASGN2_BUG_* below). With bugs == 0 the
//     driver is correct; each bit seeds one classic bug (docs/DRIVERS.md,
//     asgn2 seeded bugs) at
//     the places marked `BUG A2-Bn` in asgn2.cc.

#ifndef KMC_DRIVERS_ASGN2_ASGN2_H_
#define KMC_DRIVERS_ASGN2_ASGN2_H_

#include "sync/kernel.h"

namespace kmc::drivers::asgn2 {

using namespace kmc::kernel;  // NOLINT: kernel spelling

inline constexpr int ASGN2_CB_MAX = 16;       // largest circular buffer
inline constexpr int ASGN2_CB_SIZE = 16;      // default circular buffer size
inline constexpr int ASGN2_READ_CHUNK = 16;   // bytes one read() moves at most
inline constexpr int GPIO_DUMMY_MAX_NIBBLES = 64;

// Seeded bugs (docs/DRIVERS.md, asgn2 seeded bugs), one bit each in asgn2_dev_t::bugs.
enum : unsigned {
  // A2-B1: the top half and the tasklet share the circular buffer without
  // cb_lock (ehills' cbuffer_add/cbuffer_get_byte, RicoVeitch's
  // cb_write/cb_read): a handler on one CPU pushes while the tasklet pops on
  // another, and count/start updates are lost.
  ASGN2_BUG_UNLOCKED_CB = 1u << 0,
  // A2-B6: the tasklet moves one byte per run (ehills). Schedules that
  // arrive while it is pending coalesce, so bytes are stranded in the
  // circular buffer; when the stranded byte is a file's '\0', the reader
  // sleeps forever.
  ASGN2_BUG_ONE_BYTE_PER_TASKLET = 1u << 1,
  // A2-B12: module exit frees the circular buffer and the pages before
  // free_irq() and never calls tasklet_kill() (JetHughes frees the queue
  // before free_irq, ehills has no tasklet_kill): a late interrupt or
  // tasklet writes into freed memory.
  ASGN2_BUG_TEARDOWN_ORDER = 1u << 2,
  // A2-B2 in the bottom half: the tasklet takes cb_lock with plain
  // spin_lock(). Softirqs run with interrupts enabled, so the top half can
  // interrupt the tasklet on its CPU while it holds cb_lock and spin on it
  // forever (spinlock cpu recursion).
  ASGN2_BUG_TASKLET_PLAIN_CB_LOCK = 1u << 3,
};

struct asgn2_dev_t;

// --- the dummy GPIO port (the course's gpio.c) ---------------------------------

using irq_handler_t = irqreturn_t (*)(int, void *);

struct gpio_dummy {
  // Model side: the data generator's output, as half-bytes, most significant
  // first. Only the interrupt path touches these (one interrupt source runs
  // one handler at a time), so they are plain.
  u8 nibbles[GPIO_DUMMY_MAX_NIBBLES] = {};
  int nr_nibbles = 0;
  int next = 0;   // the next half-byte the port presents
  u8 port = 0;    // the half-byte latched by the current interrupt
  // The interrupt line: request_irq()/free_irq(), serialized by
  // request_mutex (the irq descriptor's, as in kernel/irq/manage.c).
  int irq = 7;
  struct mutex request_mutex{};
  Shared<irq_handler_t> action;
  Shared<void *> dev_id;
  Shared<int> unhandled;  // interrupts that found no handler
  gpio_dummy();
};

// Model side: queues `n` bytes of the generator's stream (each as two
// half-bytes, most significant first). Call before the tasks start.
void gpio_dummy_load(gpio_dummy *gpio, const char *bytes, int n);
// Model side: the interrupt source's handler. Latches the next half-byte and
// runs the requested handler (in hardirq context).
void gpio_dummy_fire(gpio_dummy *gpio);
// The half-byte that raised the current interrupt (gpio.c's read_half_byte).
u8 read_half_byte(gpio_dummy *gpio);

// request_irq()/free_irq() on the dummy line. free_irq() must run on the
// line's CPU (see above). Context: process.
int request_irq(gpio_dummy *line, irq_handler_t handler, unsigned long flags, const char *name,
                void *dev, const Loc &loc = Loc::current());
void free_irq(gpio_dummy *line, void *dev_id, const Loc &loc = Loc::current());

// gpio.c's gpio_dummy_init()/gpio_dummy_exit(): request and free the GPIO
// interrupt with dummyport_interrupt as its handler.
int gpio_dummy_init(asgn2_dev_t *dev);
void gpio_dummy_exit(asgn2_dev_t *dev);

// --- the driver -----------------------------------------------------------------

// One node of the page queue.
struct page_node {
  struct page *page;
  Shared<page_node *> next;
};

struct asgn2_dev_t {
  // Parameters (set by the model before asgn2_init_module()).
  int cb_size = ASGN2_CB_SIZE;   // circular buffer bytes, 1..ASGN2_CB_MAX
  size_t page_bytes = PAGE_SIZE;  // kmc: bytes used per page (see above)
  int max_nprocs = 1;
  unsigned bugs = 0;             // ASGN2_BUG_* seeded in this device

  // Top half (HARDIRQ only).
  Shared<bool> msb_phase;  // the next half-byte is the high one
  Shared<u8> hi;           // the high half-byte of the byte being assembled

  // Circular buffer. cb_lock: spin_lock in HARDIRQ, irqsave elsewhere.
  spinlock_t cb_lock{};
  u8 *cb_buf = nullptr;      // kmalloc'd, cb_size bytes; set at init
  Shared<int> cb_start;      // the oldest byte
  Shared<int> cb_count;      // bytes held
  Shared<unsigned> cb_dropped;  // bytes lost to a full buffer

  // Page queue. pq_lock: spin_lock in SOFTIRQ, spin_lock_bh in PROC.
  spinlock_t pq_lock{};
  Shared<page_node *> pq_head, pq_tail;
  Shared<size_t> head_off;   // next byte to read in the head page
  Shared<size_t> tail_off;   // next byte to write in the tail page
  Shared<size_t> data_size;  // bytes queued (file ends included)
  Shared<int> num_pages;
  Shared<int> file_ends;     // '\0's queued (complete files)
  Shared<unsigned> pq_dropped;  // bytes lost to a failed GFP_ATOMIC allocation

  // Readers.
  atomic_t nprocs = ATOMIC_INIT(0);
  wait_queue_head_t read_wq{};

  tasklet_struct tasklet{};
  struct cdev cdev{};
  gpio_dummy *gpio = nullptr;
};

// Per-open state (filp->private_data).
struct asgn2_file {
  asgn2_dev_t *dev;
  bool finished;  // this open has read its file
};

// File operations (asgn2_fops).
// Return: 0; -EACCES for a write mode; -EBUSY when max_nprocs readers are
// open; -ENOMEM. Context: process, may sleep.
int asgn2_open(struct inode *inode, struct file *filp);
int asgn2_release(struct inode *inode, struct file *filp);
// Return: the bytes of the current file copied (never the '\0'); 0 once
// this open has read its file (or for an empty file); -ERESTARTSYS on a
// signal while waiting; -EFAULT. Context: process, may sleep.
ssize_t asgn2_read(struct file *filp, char __user *buf, size_t count, loff_t *f_pos);

// The top half and the bottom half.
irqreturn_t dummyport_interrupt(int irq, void *dev_id);
void asgn2_do_tasklet(unsigned long data);

// Module init/exit in the order of docs/DRIVERS.md (asgn2 behaviour): init allocates the
// circular buffer, initializes locks, the wait queue and the tasklet, and
// requests the interrupt last; exit frees the interrupt, kills the tasklet,
// then frees the pages and the buffer. Return: 0 or -ENOMEM / the
// request_irq() error. Context: process.
int asgn2_init_module(asgn2_dev_t *dev, gpio_dummy *gpio);
void asgn2_exit_module(asgn2_dev_t *dev);

// The inode of the device, for a model's open().
inline struct inode asgn2_inode(asgn2_dev_t *dev) { return inode{&dev->cdev, dev->cdev.dev}; }

}  // namespace kmc::drivers::asgn2

#endif  // KMC_DRIVERS_ASGN2_ASGN2_H_
