/* bench/lorawan/lwl_register.c: te_lw_load's `register` mode. Writes application "bench" (formatter
 * CayenneLPP or none) and devices d00001..dN (ABP, derived from their index: lwl.h) into
 * <data_dir>/lorawan.db through the registry API, 5,000 devices per transaction. Devices that
 * already exist are left as they are (the mode can be re-run to grow a registry). */
#include "lorawan/registry.h"
#include "lwl.h"
#include <stdio.h>
#include <string.h>

#define BATCH 5000

int lwl_register(const lwl_opts *o) {
    char err[256] = "";
    lw_registry *r = NULL;
    if (!o->data_dir) {
        fprintf(stderr, "te_lw_load register: --data-dir is required\n");
        return -1;
    }
    if (lw_reg_open(o->data_dir, &r, err, sizeof err)) {
        fprintf(stderr, "te_lw_load register: %s\n", err);
        return -1;
    }
    uint64_t t0 = lwl_now_ns();
    lw_app_rec a;
    memset(&a, 0, sizeof a);
    snprintf(a.app_id, sizeof a.app_id, "%s", LWL_APP);
    snprintf(a.name, sizeof a.name, "te_lw_load benchmark devices");
    a.fmt = (o->formatter && !strcmp(o->formatter, "none")) ? LW_FMT_NONE : LW_FMT_LPP;
    int rc = lw_reg_app_add(r, &a, NULL, 0, err, sizeof err);
    if (rc == LW_REG_EXISTS) rc = lw_reg_app_update(r, &a, err, sizeof err);
    if (rc) {
        fprintf(stderr, "te_lw_load register: application %s: %s (%s)\n", LWL_APP, lw_reg_strerror(rc), err);
        lw_reg_close(r);
        return -1;
    }
    uint32_t added = 0, existed = 0;
    int ret = 0;
    for (uint32_t i = 1; i <= o->devices && !ret; i++) {
        if ((i - 1) % BATCH == 0 && lw_reg_begin(r)) {
            fprintf(stderr, "te_lw_load register: cannot begin a transaction\n");
            ret = -1;
            break;
        }
        lwl_dev dv;
        lwl_dev_derive(i, &dv);
        lw_dev_rec d;
        lw_dev_rec_init(&d);
        snprintf(d.app_id, sizeof d.app_id, "%s", LWL_APP);
        snprintf(d.dev_id, sizeof d.dev_id, "%s", dv.dev_id);
        memcpy(d.dev_eui, dv.dev_eui, 8);
        d.otaa = false;
        d.adr = false;
        d.s.dev_addr = dv.dev_addr;
        memcpy(d.s.nwk_s_key, dv.nwk_s_key, 16);
        memcpy(d.s.app_s_key, dv.app_s_key, 16);
        rc = lw_reg_dev_add(r, &d, err, sizeof err);
        lw_dev_rec_clear(&d);
        if (rc == 0) added++;
        else if (rc == LW_REG_EXISTS) existed++;
        else {
            fprintf(stderr, "te_lw_load register: device %s: %s (%s)\n", dv.dev_id, lw_reg_strerror(rc), err);
            ret = -1;
        }
        if ((i % BATCH == 0 || i == o->devices || ret) && lw_reg_commit(r)) {
            fprintf(stderr, "te_lw_load register: commit failed\n");
            ret = -1;
        }
    }
    lw_reg_close(r);
    double s = (double)(lwl_now_ns() - t0) / 1e9;
    if (!ret)
        printf("{\"mode\":\"register\",\"ok\":true,\"devices\":%u,\"added\":%u,\"existed\":%u,\"seconds\":%.2f}\n",
               o->devices, added, existed, s);
    return ret;
}
