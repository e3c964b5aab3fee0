// asgn2: the interrupt-driven GPIO reader of COSC440 assignment 2 over the
// kmc kernel API (docs/DRIVERS.md, asgn2). See asgn2.h for the data path, the
// lock and context matrix and the [variant] choices.
//
// Reads of lock-protected fields are written `dev->x.get()` so that a report
// names the exact line; writes record their line by themselves.
//
// Seeded bugs: every place where an ASGN2_BUG_* bit changes the logic is an
// `if (dev->bugs & ASGN2_BUG_...)` marked `BUG A2-Bn`. With dev->bugs == 0
// the driver is correct.

#include "drivers/asgn2/asgn2.h"

namespace kmc::drivers::asgn2 {

// ---------------------------------------------------------------------------
// The dummy GPIO port (the course's gpio.c, plus the irq descriptor kmc
// does not have).

gpio_dummy::gpio_dummy() { mutex_init_named(&request_mutex, "&desc->request_mutex"); }

void gpio_dummy_load(gpio_dummy *gpio, const char *bytes, int n) {
  for (int i = 0; i < n; ++i) {
    BUG_ON(gpio->nr_nibbles + 2 > GPIO_DUMMY_MAX_NIBBLES);
    const u8 c = static_cast<u8>(bytes[i]);
    gpio->nibbles[gpio->nr_nibbles++] = c >> 4;   // most significant first
    gpio->nibbles[gpio->nr_nibbles++] = c & 0xf;
  }
}

void gpio_dummy_fire(gpio_dummy *gpio) {
  if (gpio->next >= gpio->nr_nibbles) return;  // the generator has stopped
  gpio->port = gpio->nibbles[gpio->next++];
  // handle_simple_irq(), without the descriptor lock (see free_irq()).
  irq_handler_t action = gpio->action.get();
  if (action != nullptr) {
    action(gpio->irq, gpio->dev_id.get());
  } else {
    gpio->unhandled = gpio->unhandled.get() + 1;  // the line has no handler: lost
  }
}

u8 read_half_byte(gpio_dummy *gpio) { return gpio->port & 0xf; }

int request_irq(gpio_dummy *line, irq_handler_t handler, unsigned long flags, const char *name,
                void *dev, const Loc &loc) {
  (void)flags;
  (void)name;
  mutex_lock(&line->request_mutex, loc);
  if (line->action.get(loc) != nullptr) {
    mutex_unlock(&line->request_mutex, loc);
    return -EBUSY;
  }
  line->dev_id.set(dev, loc);
  line->action.set(handler, loc);
  mutex_unlock(&line->request_mutex, loc);
  return 0;
}

void free_irq(gpio_dummy *line, void *dev_id, const Loc &loc) {
  mutex_lock(&line->request_mutex, loc);
  WARN_ON(line->action.get(loc) == nullptr || line->dev_id.get(loc) != dev_id);
  // With interrupts off on this CPU, the line (bound to it) cannot fire
  // between the two stores; a handler never runs concurrently with process
  // context on its own CPU, so synchronize_irq() has nothing to wait for.
  const unsigned long irqflags = local_irq_save_impl(loc);
  line->action.set(nullptr, loc);
  line->dev_id.set(nullptr, loc);
  local_irq_restore(irqflags, loc);
  mutex_unlock(&line->request_mutex, loc);
}

int gpio_dummy_init(asgn2_dev_t *dev) {
  return request_irq(dev->gpio, dummyport_interrupt, 0, "gpio_dummy", dev);
}

void gpio_dummy_exit(asgn2_dev_t *dev) { free_irq(dev->gpio, dev); }

// ---------------------------------------------------------------------------
// The circular buffer (cb_lock held, except under BUG A2-B1).

namespace {

void cb_push(asgn2_dev_t *dev, u8 c) {
  const int count = dev->cb_count.get();
  if (count == dev->cb_size) {  // full: drop the new byte and count it
    dev->cb_dropped = dev->cb_dropped.get() + 1;
    return;
  }
  const int pos = (dev->cb_start.get() + count) % dev->cb_size;
  kmc_memcpy(dev->cb_buf + pos, &c, 1);
  dev->cb_count = count + 1;
}

bool cb_pop(asgn2_dev_t *dev, u8 *c) {
  const int count = dev->cb_count.get();
  if (count == 0) return false;
  const int start = dev->cb_start.get();
  kmc_memcpy(c, dev->cb_buf + start, 1);
  dev->cb_start = (start + 1) % dev->cb_size;
  dev->cb_count = count - 1;
  return true;
}

// ---------------------------------------------------------------------------
// The page queue (pq_lock held).

// Appends one byte at the tail, starting a new page when the tail page is
// full. Return: 0, or -ENOMEM (GFP_ATOMIC failed; the byte is lost).
int pq_append(asgn2_dev_t *dev, u8 c) {
  page_node *tail = dev->pq_tail.get();
  if (tail == nullptr || dev->tail_off.get() == dev->page_bytes) {
    page_node *node = kmalloc(sizeof *node, GFP_ATOMIC);
    if (!node) return -ENOMEM;
    node->page = alloc_page(GFP_ATOMIC);
    if (!node->page) {
      kfree(node);
      return -ENOMEM;
    }
    node->next = nullptr;
    if (tail != nullptr) {
      tail->next = node;
    } else {
      dev->pq_head = node;
    }
    dev->pq_tail = node;
    dev->tail_off = 0;
    dev->num_pages = dev->num_pages.get() + 1;
    tail = node;
  }
  char *addr = static_cast<char *>(page_address(tail->page));
  kmc_memcpy(addr + dev->tail_off.get(), &c, 1);
  dev->tail_off = dev->tail_off.get() + 1;
  dev->data_size = dev->data_size.get() + 1;
  if (c == '\0') dev->file_ends = dev->file_ends.get() + 1;
  return 0;
}

// Frees the head page, which has been read completely.
void pq_free_head(asgn2_dev_t *dev) {
  page_node *head = dev->pq_head.get();
  page_node *next = head->next.get();
  dev->pq_head = next;
  if (next == nullptr) {
    dev->pq_tail = nullptr;
    dev->tail_off = 0;
  }
  dev->head_off = 0;
  __free_page(head->page);
  kfree(head);
  dev->num_pages = dev->num_pages.get() - 1;
}

// Frees every page (module exit).
void pq_free_all(asgn2_dev_t *dev) {
  spin_lock_bh(&dev->pq_lock);
  page_node *node = dev->pq_head.get();
  while (node != nullptr) {
    page_node *next = node->next.get();
    __free_page(node->page);
    kfree(node);
    node = next;
  }
  dev->pq_head = nullptr;
  dev->pq_tail = nullptr;
  dev->head_off = 0;
  dev->tail_off = 0;
  dev->data_size = 0;
  dev->file_ends = 0;
  dev->num_pages = 0;
  spin_unlock_bh(&dev->pq_lock);
}

}  // namespace

// ---------------------------------------------------------------------------
// Top half and bottom half.

// HARDIRQ: one half-byte per interrupt, the high one first. Never sleeps,
// allocates, or touches pq_lock.
irqreturn_t dummyport_interrupt(int irq, void *dev_id) {
  (void)irq;
  asgn2_dev_t *dev = static_cast<asgn2_dev_t *>(dev_id);
  const u8 half = read_half_byte(dev->gpio);

  if (dev->msb_phase.get()) {
    dev->hi = half;
    dev->msb_phase = false;
    return IRQ_HANDLED;
  }
  dev->msb_phase = true;
  const u8 byte = static_cast<u8>((dev->hi.get() << 4) | half);

  if (dev->bugs & ASGN2_BUG_UNLOCKED_CB) {
    cb_push(dev, byte);  // BUG A2-B1: no cb_lock
  } else {
    spin_lock(&dev->cb_lock);  // interrupts are off: the plain variant
    cb_push(dev, byte);
    spin_unlock(&dev->cb_lock);
  }
  tasklet_schedule(&dev->tasklet);
  return IRQ_HANDLED;
}

// SOFTIRQ: moves everything the circular buffer holds to the page queue,
// then wakes the readers. Schedules that arrive while it is pending
// coalesce, so it must drain completely; one that arrives while it runs
// schedules it again.
void asgn2_do_tasklet(unsigned long data) {
  asgn2_dev_t *dev = reinterpret_cast<asgn2_dev_t *>(data);
  u8 bytes[ASGN2_CB_MAX];
  int n = 0;
  int want = ASGN2_CB_MAX;
  if (dev->bugs & ASGN2_BUG_ONE_BYTE_PER_TASKLET) want = 1;  // BUG A2-B6

  if (dev->bugs & ASGN2_BUG_UNLOCKED_CB) {
    while (n < want && cb_pop(dev, &bytes[n])) n++;  // BUG A2-B1: no cb_lock
  } else if (dev->bugs & ASGN2_BUG_TASKLET_PLAIN_CB_LOCK) {
    spin_lock(&dev->cb_lock);  // BUG A2-B2: interrupts stay enabled
    while (n < want && cb_pop(dev, &bytes[n])) n++;
    spin_unlock(&dev->cb_lock);
  } else {
    unsigned long flags;
    spin_lock_irqsave(&dev->cb_lock, flags);  // the top half may interrupt us
    while (n < want && cb_pop(dev, &bytes[n])) n++;
    spin_unlock_irqrestore(&dev->cb_lock, flags);
  }
  if (n == 0) return;

  spin_lock(&dev->pq_lock);
  for (int i = 0; i < n; ++i) {
    if (pq_append(dev, bytes[i]) < 0) {
      dev->pq_dropped = dev->pq_dropped.get() + static_cast<unsigned>(n - i);
      break;
    }
  }
  spin_unlock(&dev->pq_lock);
  wake_up_interruptible(&dev->read_wq);
}

// ---------------------------------------------------------------------------
// File operations.

int asgn2_open(struct inode *inode, struct file *filp) {
  asgn2_dev_t *dev = container_of(inode->i_cdev, asgn2_dev_t, cdev);
  struct asgn2_file *af;

  if ((filp->f_flags & O_ACCMODE) != O_RDONLY) return -EACCES;  // read-only device
  if (atomic_inc_return(&dev->nprocs) > dev->max_nprocs) {
    atomic_dec(&dev->nprocs);
    return -EBUSY;
  }
  af = kmalloc(sizeof *af, GFP_KERNEL);
  if (!af) {
    atomic_dec(&dev->nprocs);
    return -ENOMEM;
  }
  af->dev = dev;
  af->finished = false;
  filp->private_data = af;
  return 0;
}

int asgn2_release(struct inode *inode, struct file *filp) {
  (void)inode;
  struct asgn2_file *af = static_cast<struct asgn2_file *>(filp->private_data);
  atomic_dec(&af->dev->nprocs);
  kfree(af);
  filp->private_data = nullptr;
  return 0;
}

ssize_t asgn2_read(struct file *filp, char __user *buf, size_t count, loff_t *f_pos) {
  struct asgn2_file *af = static_cast<struct asgn2_file *>(filp->private_data);
  asgn2_dev_t *dev = af->dev;
  char kbuf[ASGN2_READ_CHUNK];  // bounce buffer: no user copy under pq_lock
  size_t n = 0;
  bool eof = false;

  if (af->finished) return 0;  // one file per open
  if (wait_event_interruptible(dev->read_wq, dev->data_size.get() > 0)) return -ERESTARTSYS;

  count = min(count, sizeof kbuf);
  spin_lock_bh(&dev->pq_lock);  // the tasklet may run at irq exit on this CPU
  while (n < count && dev->data_size.get() > 0) {
    page_node *head = dev->pq_head.get();
    const size_t off = dev->head_off.get();
    char c;
    kmc_memcpy(&c, static_cast<char *>(page_address(head->page)) + off, 1);
    dev->head_off = off + 1;
    dev->data_size = dev->data_size.get() - 1;
    if (off + 1 == dev->page_bytes) pq_free_head(dev);  // only the head, only when read
    if (c == '\0') {  // the end of this open's file: consumed, never returned
      dev->file_ends = dev->file_ends.get() - 1;
      eof = true;
      break;
    }
    kbuf[n++] = c;
  }
  spin_unlock_bh(&dev->pq_lock);

  if (eof) af->finished = true;
  if (n > 0 && copy_to_user(buf, kbuf, n)) return -EFAULT;
  *f_pos += static_cast<loff_t>(n);
  return static_cast<ssize_t>(n);
}

// ---------------------------------------------------------------------------
// Module init and exit (docs/DRIVERS.md, asgn2 behaviour).

int asgn2_init_module(asgn2_dev_t *dev, gpio_dummy *gpio) {
  int rc;

  if (dev->cb_size < 1 || dev->cb_size > ASGN2_CB_MAX || dev->page_bytes < 1 ||
      dev->page_bytes > PAGE_SIZE) {
    return -EINVAL;
  }
  dev->gpio = gpio;
  dev->cb_buf = kmalloc(static_cast<size_t>(dev->cb_size), GFP_KERNEL);
  if (!dev->cb_buf) return -ENOMEM;
  dev->cb_start = 0;
  dev->cb_count = 0;
  dev->cb_dropped = 0u;
  dev->msb_phase = true;
  dev->hi = 0;
  dev->pq_head = nullptr;
  dev->pq_tail = nullptr;
  dev->head_off = 0;
  dev->tail_off = 0;
  dev->data_size = 0;
  dev->num_pages = 0;
  dev->file_ends = 0;
  dev->pq_dropped = 0u;
  spin_lock_init(&dev->cb_lock);
  spin_lock_init(&dev->pq_lock);
  init_waitqueue_head(&dev->read_wq);
  tasklet_init(&dev->tasklet, asgn2_do_tasklet, reinterpret_cast<unsigned long>(dev));
  dev->tasklet.name = "dev->tasklet";
  dev->cdev.dev = 0;  // MKDEV(asgn2_major, 0): one minor

  // Last: from here on interrupts arrive.
  rc = gpio_dummy_init(dev);
  if (rc) {
    kfree(dev->cb_buf);
    dev->cb_buf = nullptr;
    return rc;
  }
  return 0;
}

void asgn2_exit_module(asgn2_dev_t *dev) {
  if (dev->bugs & ASGN2_BUG_TEARDOWN_ORDER) {
    // BUG A2-B12: memory first, the interrupt after, no tasklet_kill().
    kfree(dev->cb_buf);
    pq_free_all(dev);
    gpio_dummy_exit(dev);
    return;
  }
  gpio_dummy_exit(dev);         // 1. no top half starts or still runs
  tasklet_kill(&dev->tasklet);  // 2. the bottom half is neither pending nor running
  pq_free_all(dev);             // 3. the pages and their nodes
  kfree(dev->cb_buf);
  dev->cb_buf = nullptr;
}

}  // namespace kmc::drivers::asgn2
