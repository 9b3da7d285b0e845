/* procstat: another process's resident memory and CPU time from /proc, for the load generators
 * (te_mqtt_load, te_lw_load) that watch the server they drive.
 *   lproc_rss_kb(pid)      VmRSS in kB, -1 if unreadable
 *   lproc_cpu_ticks(pid)   utime + stime in clock ticks, -1 if unreadable */
#ifndef TE_BENCH_PROCSTAT_H
#define TE_BENCH_PROCSTAT_H
long lproc_rss_kb(int pid);
long long lproc_cpu_ticks(int pid);
#endif
