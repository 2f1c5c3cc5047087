/*
 * worker.h: the optional background worker that runs segment.tick().
 */
#ifndef SEGMENT_WORKER_H
#define SEGMENT_WORKER_H

extern int	segment_tick_interval;
extern char *segment_database;

extern void segment_worker_register(void);

#endif							/* SEGMENT_WORKER_H */
