/* Fuzz target for the configuration readers (server/config.c): the input is written to a temp
 * file and read both as a mosquitto.conf (`tinyedge broker -c`) and as a tinyedge INI file
 * (`--config`); then the listeners are derived. Any file must give a config or a clear error. */
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "base/log.h"
#include "server/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static char path[64];
    if (!path[0]) {
        snprintf(path, sizeof path, "/tmp/te-fuzz-config.%d", (int)getpid());
        te_log_set_level(TE_LOG_NONE);
    }
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    if (size) fwrite(data, 1, size, f);
    fclose(f);
    char err[256];
    te_config c;
    te_config_init(&c);
    if (te_config_load_mosquitto(&c, path, err, sizeof err) == 0) te_config_listeners(&c);
    te_config_free(&c);
    te_config_init(&c);
    if (te_config_load_ini(&c, path, err, sizeof err) == 0) te_config_listeners(&c);
    te_config_free(&c);
    unlink(path);
    return 0;
}
