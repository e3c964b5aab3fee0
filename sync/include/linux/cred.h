/* kmc: <linux/cred.h>. */
#ifndef _KMC_LINUX_CRED_H
#define _KMC_LINUX_CRED_H
#include <linux/types.h>
typedef struct { uid_t val; } kuid_t;
static inline kuid_t __kmc_kuid(unsigned v) { kuid_t k = {v}; return k; }
#define current_uid() __kmc_kuid(kmc_c_current_uid())
#define current_euid() __kmc_kuid(kmc_c_current_euid())
static inline bool uid_eq(kuid_t a, kuid_t b) { return a.val == b.val; }
#define __kuid_val(k) ((k).val)
#define GLOBAL_ROOT_UID __kmc_kuid(0)
#endif
