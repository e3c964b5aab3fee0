/* kmc: <linux/moduleparam.h>: module_param(), module_param_array().
 * Types: int, uint, long, ulong, short, ushort, byte, bool, invbool, charp.
 * A model sets them at insmod: insmod("scull", "scull_nr_devs=1 bugs=0x4"). */
#ifndef _KMC_LINUX_MODULEPARAM_H
#define _KMC_LINUX_MODULEPARAM_H
#include <linux/types.h>

#define module_param_named(name, value, type, perm)                                 \
  static void __attribute__((constructor, used)) __kmc_param_##name(void) {          \
    kmc_c_module_param(KBUILD_MODNAME, #name, #type, &(value), sizeof(value), 0, 1); \
  }
#define module_param(name, type, perm) module_param_named(name, name, type, perm)
#define module_param_array(name, type, nump, perm)                                  \
  static void __attribute__((constructor, used)) __kmc_param_##name(void) {          \
    kmc_c_module_param(KBUILD_MODNAME, #name, #type, (name), sizeof((name)[0]), (nump), \
                       sizeof(name) / sizeof((name)[0]));                           \
  }
#endif
