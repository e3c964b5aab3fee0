/* SPDX-License-Identifier: GPL-2.0 */
/*
 * gpio.h: the dummy GPIO device of COSC440 assignment 2, as the driver sees
 * it (docs/DRIVERS.md, asgn2).
 *
 * The device presents a stream of bytes one half-byte at a time on four
 * input pins, the most significant half first, and raises one interrupt per
 * half-byte. Two implementations of this interface exist:
 *   gpio.c        the board: real GPIO pins and their interrupt (gpiolib),
 *                 built by Kbuild (tools/kbuild.sh);
 *   gpio_dummy.c  kmc's dummy port, built by kmc_module (BUILD.bazel): the
 *                 device is the model's interrupt source (models/asgn2_rig.h),
 *                 which latches each half-byte on the port and delivers the
 *                 interrupt with kmc::GenerateIrq().
 */
#ifndef _ASGN2_GPIO_H
#define _ASGN2_GPIO_H

#include <linux/types.h>
#include <linux/interrupt.h>

/* The half-byte on the data pins (bit 0 to bit 3). Context: any. */
u8 read_half_byte(void);

/*
 * Requests the pins and the device's interrupt, with dummyport_interrupt()
 * as its handler (dev_id NULL); interrupts may arrive as soon as it
 * returns. Return: 0 or -errno. Context: process, may sleep.
 */
int gpio_dummy_init(void);

/* Frees the interrupt and the pins. Context: process, may sleep. */
void gpio_dummy_exit(void);

/* The driver's top half (asgn2.c). */
irqreturn_t dummyport_interrupt(int irq, void *dev_id);

#endif /* _ASGN2_GPIO_H */
