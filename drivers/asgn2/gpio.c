// SPDX-License-Identifier: GPL-2.0
/*
 * gpio.c: the dummy GPIO device on a board (gpio.h), through the kernel's
 * GPIO library. Built by Kbuild for the real module (tools/kbuild.sh);
 * kmc builds gpio_dummy.c instead.
 *
 * Wiring (the course's Raspberry Pi header): the half-byte on GPIO 7
 * (bit 0), 17, 22 and 24 (bit 3); the device raises GPIO 27 for each
 * half-byte, and its rising edge is the interrupt.
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/gpio.h>
#include <linux/interrupt.h>
#include "gpio.h"

static struct gpio dummy_pins[] = {
	{ 7, GPIOF_IN, "asgn2 bit 0" },
	{ 17, GPIOF_IN, "asgn2 bit 1" },
	{ 22, GPIOF_IN, "asgn2 bit 2" },
	{ 24, GPIOF_IN, "asgn2 bit 3" },
	{ 27, GPIOF_IN, "asgn2 strobe" },
};
#define DATA_PINS 4
#define STROBE_PIN 4

static int dummy_irq = -1;

u8 read_half_byte(void)
{
	u8 half = 0;
	int i;

	for (i = 0; i < DATA_PINS; i++)
		if (gpio_get_value(dummy_pins[i].gpio))
			half |= 1 << i;
	return half;
}

int gpio_dummy_init(void)
{
	int ret;

	ret = gpio_request_array(dummy_pins, ARRAY_SIZE(dummy_pins));
	if (ret) {
		pr_err("asgn2: cannot request the GPIO pins: %d\n", ret);
		return ret;
	}
	ret = gpio_to_irq(dummy_pins[STROBE_PIN].gpio);
	if (ret < 0) {
		pr_err("asgn2: no interrupt for GPIO %u: %d\n",
		       dummy_pins[STROBE_PIN].gpio, ret);
		goto fail_pins;
	}
	dummy_irq = ret;
	ret = request_irq(dummy_irq, dummyport_interrupt, IRQF_TRIGGER_RISING,
			  "asgn2", NULL);
	if (ret) {
		pr_err("asgn2: cannot request IRQ %d: %d\n", dummy_irq, ret);
		goto fail_pins;
	}
	return 0;

fail_pins:
	gpio_free_array(dummy_pins, ARRAY_SIZE(dummy_pins));
	return ret;
}

void gpio_dummy_exit(void)
{
	free_irq(dummy_irq, NULL);
	gpio_free_array(dummy_pins, ARRAY_SIZE(dummy_pins));
}
