// SPDX-License-Identifier: GPL-2.0
/*
 * gpio_dummy.c: the dummy GPIO device as kmc checks it (gpio.h). kmc_module
 * builds this file in place of the board's gpio.c.
 *
 * The device itself is a model's interrupt source (models/asgn2_rig.h): for
 * each half-byte of the data generator's stream it latches the half-byte on
 * gpio_dummy_pins, then delivers gpio_dummy_irq with kmc::GenerateIrq(),
 * which runs the handler requested here in hardirq context. When the
 * interrupts arrive, and what they interrupt, is the checker's choice.
 */
#include <linux/module.h>
#include <linux/interrupt.h>
#include "gpio.h"

/* The device's interrupt line. */
const int gpio_dummy_irq = 7;

/* The data pins, as the device drives them (an I/O register: volatile). */
volatile u8 gpio_dummy_pins;

u8 read_half_byte(void)
{
	return gpio_dummy_pins & 0xf;
}

int gpio_dummy_init(void)
{
	return request_irq(gpio_dummy_irq, dummyport_interrupt, 0, "gpio_dummy", NULL);
}

void gpio_dummy_exit(void)
{
	free_irq(gpio_dummy_irq, NULL);
}
