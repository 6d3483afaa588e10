/*
 * sim.h: a stratosim run: N unmodified cores over the network model, driven
 * in virtual time by the scenario.
 *
 * Each node is a real sc_node. Its send callback hands datagrams to the
 * model (sim_net), which decides when and whether they arrive; its rand
 * callback draws from the node's own stream of the run's seed; its memory
 * comes through a counting allocator. Nothing in src/core knows it is
 * simulated.
 */
#ifndef SIM_H
#define SIM_H

#include <stdint.h>
#include <stdio.h>

#include "sim_scenario.h"

struct sc_textbuf;

typedef struct sim sim;

/* sim_new builds the run described by |cfg| (which must have passed
 * sim_config_finish and must outlive the run). Returns 0, or -1 with a
 * message in |err|. */
int sim_new(sim **ps, const sim_config *cfg, char *err, size_t errlen);

/* sim_del frees the run and every node; NULL is fine. */
void sim_del(sim *s);

/* sim_run runs to the scenario's duration. Returns 0, or -1 with a message
 * in |err| when the host ran out of memory. */
int sim_run(sim *s, char *err, size_t errlen);

/* sim_report writes the report, one JSON document, to |out|. Everything in
 * it follows from the scenario and the seed, so it is byte-identical from
 * run to run. Returns 0, or -1 when memory ran out. */
int sim_report(sim *s, struct sc_textbuf *out);

/* sim_summary prints a short human summary to |f|, with the host figures
 * that do vary from run to run (wall time, events per second, peak RSS). */
void sim_summary(sim *s, FILE *f, double wall_seconds);

#endif /* SIM_H */
