// SPDX-License-Identifier: GPL-2.0
/*
 * complete: a character device whose readers sleep until a writer comes.
 *
 * Written from the description of the "complete" module of LDD3 chapter 5:
 * read() waits on a completion and returns 0 (end of file) once woken;
 * write() signals the completion once per call, so each write lets exactly
 * one reader go, and claims to have consumed the whole buffer.
 *
 * Seeded bug (module parameter bugs=1, BUG 01): after waking up the reader
 * re-arms the completion with reinit_completion(), as if it were the only
 * reader. A second write that came in before the first reader woke is then
 * thrown away, and a second reader sleeps forever (a lost wake-up).
 */

#include <linux/module.h>
#include <linux/init.h>
#include <linux/moduleparam.h>
#include <linux/kernel.h>
#include <linux/fs.h>
#include <linux/sched.h>
#include <linux/completion.h>

static int complete_major;	/* dynamic by default */
module_param(complete_major, int, 0444);
MODULE_PARM_DESC(complete_major, "major number (0: dynamic)");

static int bugs;
module_param(bugs, int, 0444);
MODULE_PARM_DESC(bugs, "seeded bugs: 1 = reader re-arms the completion");

#define BUG_REINIT	0x1

static DECLARE_COMPLETION(comp);

static ssize_t complete_read(struct file *filp, char __user *buf,
			     size_t count, loff_t *pos)
{
	pr_debug("process %i (%s) going to sleep\n",
		 current->pid, current->comm);
	wait_for_completion(&comp);
	/* BUG 01: forgets the completions that other writers already posted */
	if (bugs & BUG_REINIT)
		reinit_completion(&comp);
	pr_debug("awoken %i (%s)\n", current->pid, current->comm);
	return 0;	/* end of file */
}

static ssize_t complete_write(struct file *filp, const char __user *buf,
			      size_t count, loff_t *pos)
{
	pr_debug("process %i (%s) awakening the readers...\n",
		 current->pid, current->comm);
	complete(&comp);
	return count;	/* pretend the data was consumed */
}

static const struct file_operations complete_fops = {
	.owner = THIS_MODULE,
	.read = complete_read,
	.write = complete_write,
	.llseek = noop_llseek,
};

static int __init complete_init(void)
{
	int result;

	result = register_chrdev(complete_major, "complete", &complete_fops);
	if (result < 0) {
		pr_warn("complete: can't get major %d\n", complete_major);
		return result;
	}
	if (complete_major == 0)
		complete_major = result;
	return 0;
}

static void __exit complete_exit(void)
{
	unregister_chrdev(complete_major, "complete");
}

module_init(complete_init);
module_exit(complete_exit);

MODULE_AUTHOR("kmc examples");
MODULE_DESCRIPTION("readers sleep on a completion until a writer comes");
MODULE_LICENSE("Dual BSD/GPL");
