/* LoRaWAN registry: applications, devices (keys, formatter, class, region, session) and gateways in
 * SQLite at <data_dir>/lorawan.db (WAL mode, created on first open). Used by the server (which loads
 * everything at start, then follows the change log), by `tinyedge lorawan ...` (works whether or not
 * a server runs on the same data dir) and by the REST API. Keys go in and are never returned by the
 * list/show paths of the CLI/REST (the records here do carry them: callers must not print them).
 * Application API keys (MQTT passwords, as The Things Stack's) are stored as salted SHA-256 hashes.
 *
 * Contract (ints: 0 ok, LW_REG_NOTFOUND, LW_REG_EXISTS, LW_REG_INVALID (message in err), LW_REG_DB):
 *   lw_reg_open(dir,&r,err,n)            open/create <dir>/lorawan.db (dir created if missing)
 *   lw_reg_close(r)
 *   lw_reg_app_add(r,a,key_out,cap,err,n) insert; a new random API key "NNSXS.<hex>.<hex>" is written
 *                                        to key_out (cap >= LW_REG_KEY_MAX; key_out NULL = no key
 *                                        created) -- shown once; LW_REG_EXISTS if the id is taken
 *   lw_reg_app_update(r,a,err,n)         change name/formatter of an existing application
 *   lw_reg_app_get(r,id,a)               fill a (caller clears with lw_app_rec_clear)
 *   lw_reg_app_list(r,cb,ud)             cb(ud,a) per application in id order; cb returns 0 to go on
 *   lw_reg_app_remove(r,id)              delete the application and all its devices
 *   lw_reg_app_key_check(r,id,key)       1 if key is a valid API key of application id, else 0
 *   lw_reg_app_key_new(r,id,key_out,cap) add another API key (rotation); keys stay valid until removed
 *   lw_reg_dev_add(r,d,err,n)            insert (validates ids, EUIs unique per JoinEUI/DevEUI pair,
 *                                        ABP DevAddr+keys present when !otaa, app exists: else
 *                                        LW_REG_NOTFOUND with a message); ABP: session stored active
 *                                        with FCnts 0, OTAA: session stored inactive
 *   lw_reg_dev_update(r,d,err,n)         replace the registration of an existing device (keeps session
 *                                        unless keys/DevAddr/activation changed)
 *   lw_reg_dev_get(r,app,dev,d)          fill d (deep; clear with lw_dev_rec_clear)
 *   lw_reg_dev_get_by_eui(r,join_eui,dev_eui,d)  (join_eui NULL = any)
 *   lw_reg_dev_list(r,app,cb,ud)         app NULL = all devices; cb(ud,d) in (app,dev) order
 *   lw_reg_dev_remove(r,app,dev)         also forgets the device's used DevNonces
 *   lw_reg_session_save(r,d)             store d->s (the server calls this; not logged as a change);
 *                                        stored as a versioned blob: an unreadable one loads inactive
 *   lw_reg_autocheckpoint(r,pages)       WAL auto-checkpoint of this handle (0 = never: the server's
 *                                        event-loop handle, whose checkpoints' fsync would stall
 *                                        the loop; its worker-thread handle checkpoints instead)
 *   lw_reg_begin(r) / lw_reg_commit(r)   group many session saves in one transaction (the server
 *                                        flushes its dirty sessions that way, ~10 times a second)
 *   lw_reg_devnonce_use(r,d,nonce)       1 if (JoinEUI,DevEUI,nonce) was never used and is now
 *                                        recorded, 0 if it is a replay, <0 on error
 *   lw_reg_gw_add / _update / _get / _list / _remove   gateways by EUI
 *   lw_reg_changes(r,since,cb,ud,&last)  call cb(ud,kind,app_id,dev_or_gw_id) for each change with
 *                                        seq > since (kind: "app", "dev", "gw"; removed or changed;
 *                                        for "gw" app_id is "" and id the upper-case EUI hex),
 *                                        *last = highest seq seen (since when nothing is newer, so 0 on
 *                                        an empty log); cb NULL: only *last = the newest seq (the
 *                                        server's starting point); the server polls this
 *   lw_reg_strerror(rc)
 * Every function is safe to call concurrently from different processes (SQLite busy timeout 5 s). */
#ifndef TE_LORAWAN_REGISTRY_H
#define TE_LORAWAN_REGISTRY_H
#include "lorawan/device.h"
#include <stddef.h>
#include <stdint.h>

enum { LW_REG_NOTFOUND = -1, LW_REG_EXISTS = -2, LW_REG_INVALID = -3, LW_REG_DB = -4 };

/* API keys: "NNSXS." + 16 upper-case hex (key id) + "." + 64 upper-case hex (secret), 87 chars */
#define LW_REG_KEY_LEN 87
#define LW_REG_KEY_MAX (LW_REG_KEY_LEN + 1)
#define LW_REG_SCHEMA_VERSION 1

typedef struct lw_registry lw_registry;
typedef int (*lw_reg_app_cb)(void *ud, const lw_app_rec *a);
typedef int (*lw_reg_dev_cb)(void *ud, const lw_dev_rec *d);
typedef int (*lw_reg_gw_cb)(void *ud, const lw_gw_rec *g);
typedef void (*lw_reg_change_cb)(void *ud, const char *kind, const char *app_id, const char *id);

int lw_reg_open(const char *data_dir, lw_registry **out, char *err, size_t errlen);
void lw_reg_close(lw_registry *r);

int lw_reg_app_add(lw_registry *r, const lw_app_rec *a, char *key_out, size_t key_cap, char *err, size_t errlen);
int lw_reg_app_update(lw_registry *r, const lw_app_rec *a, char *err, size_t errlen);
int lw_reg_app_get(lw_registry *r, const char *app_id, lw_app_rec *a);
int lw_reg_app_list(lw_registry *r, lw_reg_app_cb cb, void *ud);
int lw_reg_app_remove(lw_registry *r, const char *app_id);
int lw_reg_app_key_check(lw_registry *r, const char *app_id, const char *key);
int lw_reg_app_key_new(lw_registry *r, const char *app_id, char *key_out, size_t key_cap);

int lw_reg_dev_add(lw_registry *r, const lw_dev_rec *d, char *err, size_t errlen);
int lw_reg_dev_update(lw_registry *r, const lw_dev_rec *d, char *err, size_t errlen);
int lw_reg_dev_get(lw_registry *r, const char *app_id, const char *dev_id, lw_dev_rec *d);
int lw_reg_dev_get_by_eui(lw_registry *r, const uint8_t *join_eui, const uint8_t dev_eui[8], lw_dev_rec *d);
int lw_reg_dev_list(lw_registry *r, const char *app_id, lw_reg_dev_cb cb, void *ud);
int lw_reg_dev_remove(lw_registry *r, const char *app_id, const char *dev_id);
int lw_reg_session_save(lw_registry *r, const lw_dev_rec *d);
int lw_reg_autocheckpoint(lw_registry *r, int pages);
int lw_reg_begin(lw_registry *r);
int lw_reg_commit(lw_registry *r);
int lw_reg_devnonce_use(lw_registry *r, const lw_dev_rec *d, uint16_t nonce);

int lw_reg_gw_add(lw_registry *r, const lw_gw_rec *g, char *err, size_t errlen);
int lw_reg_gw_update(lw_registry *r, const lw_gw_rec *g, char *err, size_t errlen);
int lw_reg_gw_get(lw_registry *r, const uint8_t eui[8], lw_gw_rec *g);
int lw_reg_gw_list(lw_registry *r, lw_reg_gw_cb cb, void *ud);
int lw_reg_gw_remove(lw_registry *r, const uint8_t eui[8]);

int lw_reg_changes(lw_registry *r, int64_t since, lw_reg_change_cb cb, void *ud, int64_t *last);
const char *lw_reg_strerror(int rc);
#endif
