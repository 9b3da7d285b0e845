/* server/lorawan_rest: the LoRaWAN registry's REST API under /api/v1/lorawan/ (JSON), plus the JSON
 * mapping of registry records shared with `tinyedge lorawan ... --json`. Responses never carry keys
 * (root or session): a key that is set shows as "set". Routes and field names: docs/lorawan-registry.md.
 *
 *   lw_rest_handle(req,ctx)       1 if req->path is under /api/v1/lorawan (answered, now), else 0
 *                                 (nothing sent). Errors: 400 {"error":..} (bad JSON / invalid input),
 *                                 404, 405 (+Allow), 409 (exists), 500 (database), 503 (no downlink queue)
 *   lw_json_app/dev/gw(rec)       new JSON object for a record (keys as "set" markers); NULL on OOM
 *   lw_json_apply_app(j,a,err,n)  apply the fields present in JSON object j onto a (absent: unchanged);
 *   lw_json_apply_dev(j,d,err,n)  0, or -1 with a message naming the field; ids in j are applied
 *   lw_json_apply_gw(j,g,err,n)   too (callers compare them with the path)
 *   lw_fmt_kind_name(k) / lw_fmt_kind_parse(s,&k)   "inherit"/"none"/"lpp"/"js" <-> kind; 0 or -1
 *   lw_ms_rfc3339(ms,out,cap)     epoch ms -> "2026-11-25T12:00:00.123Z" ("" for 0) */
#ifndef TE_SERVER_LORAWAN_REST_H
#define TE_SERVER_LORAWAN_REST_H
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include "lorawan/registry.h"
#include "net/net.h"

typedef struct lw_rest_ctx {
    lw_registry *reg;
    const char *tenant; /* MQTT usernames are <app>@<tenant> */
    /* queue downlinks for a device: json = the request body ({"downlinks":[...]} as TTS), replace =
     * the /down/replace route; 0 ok, else -1 with a message in err (answered 400). NULL: 503. */
    int (*queue_down)(void *ud, const char *app, const char *dev, const char *json, size_t len, bool replace,
                      char *err, size_t errlen);
    void *ud;
} lw_rest_ctx;

int lw_rest_handle(net_http_req *req, const lw_rest_ctx *ctx);

json_t *lw_json_app(const lw_app_rec *a);
json_t *lw_json_dev(const lw_dev_rec *d);
json_t *lw_json_gw(const lw_gw_rec *g);
int lw_json_apply_app(const json_t *j, lw_app_rec *a, char *err, size_t errlen);
int lw_json_apply_dev(const json_t *j, lw_dev_rec *d, char *err, size_t errlen);
int lw_json_apply_gw(const json_t *j, lw_gw_rec *g, char *err, size_t errlen);
const char *lw_fmt_kind_name(lw_fmt_kind k);
int lw_fmt_kind_parse(const char *s, lw_fmt_kind *k);
void lw_ms_rfc3339(int64_t ms, char *out, size_t cap);
#endif
