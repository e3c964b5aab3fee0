/* kmc: <linux/seqlock.h> is not available to C drivers yet. */
#error "kmc: <linux/seqlock.h> is not modelled for C drivers yet; see docs/CHECK_YOUR_DRIVER.md"
