/* kmc: <linux/module.h>.
 *
 * A kmc module (tools/kmc.bzl kmc_module) is loaded per execution:
 * insmod() in a model restores the module's globals and statics to their
 * load-time image, sets its parameters and runs module_init(); module_exit()
 * runs at rmmod() or at the end of the execution, before the leak scan.
 * KBUILD_MODNAME is defined by kmc_module (and by kbuild). */
#ifndef _KMC_LINUX_MODULE_H
#define _KMC_LINUX_MODULE_H

#include <linux/types.h>
#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/moduleparam.h>
#include <linux/stat.h>

#ifndef KBUILD_MODNAME
#error "kmc: KBUILD_MODNAME is not defined; build the driver with kmc_module() (see docs/CHECK_YOUR_DRIVER.md)"
#endif

struct module;
#define THIS_MODULE ((struct module *)0)

#define __KMC_MODSTR(x) #x
#define module_init(fn)                                                        \
  static void __attribute__((constructor, used)) __kmc_register_init(void) {   \
    static const struct kmc_loc __kmc_l = {__FILE__, __KMC_MODSTR(fn), __LINE__, 0}; \
    int (*__kmc_f)(void) = fn;                                                 \
    kmc_c_module_init_fn(KBUILD_MODNAME, __kmc_f, &__kmc_l);                   \
  }
#define module_exit(fn)                                                        \
  static void __attribute__((constructor, used)) __kmc_register_exit(void) {   \
    static const struct kmc_loc __kmc_l = {__FILE__, __KMC_MODSTR(fn), __LINE__, 0}; \
    void (*__kmc_f)(void) = fn;                                                \
    kmc_c_module_exit_fn(KBUILD_MODNAME, __kmc_f, &__kmc_l);                   \
  }

#define __KMC_MODINFO _Static_assert(1, "module info")
#define MODULE_LICENSE(x) __KMC_MODINFO
#define MODULE_AUTHOR(x) __KMC_MODINFO
#define MODULE_DESCRIPTION(x) __KMC_MODINFO
#define MODULE_VERSION(x) __KMC_MODINFO
#define MODULE_ALIAS(x) __KMC_MODINFO
#define MODULE_PARM_DESC(p, d) __KMC_MODINFO
#define MODULE_INFO(t, i) __KMC_MODINFO
#define EXPORT_SYMBOL(s) __KMC_MODINFO
#define EXPORT_SYMBOL_GPL(s) __KMC_MODINFO

#endif
