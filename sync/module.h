// kmc: loadable modules of C drivers, as a model sees them.
//
// A C driver built with kmc_module() (tools/kmc.bzl) is a module: its
// globals and statics form one region that kmc snapshots when the program
// starts (the load-time image). In a model:
//
//   kmc::insmod("sleepy", "fixed=1");   // in the fixture's constructor
//
// restores the region to that image (nothing survives from the previous
// execution), sets the module parameters, and runs module_init() in the
// calling context (module init when called from the fixture). module_exit()
// runs at rmmod(), or at the end of the execution after the model's final
// check and before the leak scan. While loaded, the region is checked like
// kernel heap memory (data races, bounds). Devices the module registers are
// reached through sync/vfs.h.

#ifndef KMC_SYNC_MODULE_H_
#define KMC_SYNC_MODULE_H_

#include <source_location>
#include <string>

namespace kmc {

// Loads `module` with its parameters ("name=value ...": integers in C
// syntax, booleans as 0/1/y/n, charp strings, arrays as a,b,c). Returns
// module_init()'s result (0 or -errno). An unknown module or parameter is a
// model error.
int insmod(const std::string& module, const std::string& params = "",
           const std::source_location& loc = std::source_location::current());

// Runs module_exit() of a loaded module. Return: 0, or -ENOENT when it is
// not loaded.
int rmmod(const std::string& module,
          const std::source_location& loc = std::source_location::current());

// True when `module` is linked into this program (kmc_module dependency).
bool ModuleLinked(const std::string& module);

// Delivers interrupt `irq` to the handler a loaded module registered with
// request_irq() (call it from a model's interrupt source, which runs in
// hardirq context). Return: the handler's irqreturn_t, or 0 (IRQ_NONE) when
// no handler is registered.
int GenerateIrq(unsigned irq);

}  // namespace kmc

#endif  // KMC_SYNC_MODULE_H_
