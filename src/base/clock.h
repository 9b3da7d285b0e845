/* clock: monotonic and wall time in milliseconds.
 *   te_mono_ms()   monotonic ms (for timeouts)
 *   te_wall_ms()   Unix epoch ms (for persisted expiry times) */
#ifndef TE_BASE_CLOCK_H
#define TE_BASE_CLOCK_H
#include <stdint.h>
uint64_t te_mono_ms(void);
uint64_t te_wall_ms(void);
#endif
