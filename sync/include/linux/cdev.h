/* kmc: <linux/cdev.h>. cdev_add() makes the device reachable by open(). */
#ifndef _KMC_LINUX_CDEV_H
#define _KMC_LINUX_CDEV_H
#include <linux/fs.h>
#define cdev_init(c, fops) kmc_c_cdev_init((c), (fops))
#define cdev_add(c, dev, count) kmc_c_cdev_add((c), (dev), (count), KMC_LOC)
#define cdev_del(c) kmc_c_cdev_del((c), KMC_LOC)
struct cdev *cdev_alloc(void)
    __attribute__((error("kmc: cdev_alloc is not modelled; embed a struct cdev and use cdev_init; see docs/CHECK_YOUR_DRIVER.md")));
#endif
