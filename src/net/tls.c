/* tls: TLS for a net_conn with OpenSSL 3 and two memory BIOs — ciphertext read from the socket
 * is written into the read BIO, records OpenSSL produces are drained from the write BIO into the
 * conn's socket buffer, so TLS runs on the same event loop and write batching as plain TCP.
 * Server and client mode; client certificates optional or required (cafile/capath); the client
 * certificate's CN is kept for net_conn_tls_cn; handshake failures are logged and close the conn. */
#include "base/log.h"
#include "net/net_internal.h"
#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct net_tls {
    SSL *ssl;
    BIO *rbio, *wbio; /* owned by ssl */
    bool done, server;
    char *cn;
};

static void net_tls_errstr(char *out, size_t n) {
    unsigned long e = ERR_peek_last_error();
    if (e) ERR_error_string_n(e, out, n);
    else snprintf(out, n, "unknown error");
    ERR_clear_error();
}

SSL_CTX *net_tls_ctx_server(const net_tls_opts *o, char *err, size_t errlen) {
    char e[256];
    if (!o->certfile || !o->keyfile) {
        snprintf(err, errlen, "tls: certfile and keyfile are required");
        return NULL;
    }
    if (o->require_certificate && !o->cafile && !o->capath) {
        snprintf(err, errlen, "tls: require_certificate needs cafile or capath");
        return NULL;
    }
    ERR_clear_error();
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) goto ssl_err;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"tinyedge", 8);
    if (SSL_CTX_use_certificate_chain_file(ctx, o->certfile) != 1) {
        net_tls_errstr(e, sizeof e);
        snprintf(err, errlen, "tls: certfile %s: %s", o->certfile, e);
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, o->keyfile, SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
        net_tls_errstr(e, sizeof e);
        snprintf(err, errlen, "tls: keyfile %s: %s", o->keyfile, e);
        goto fail;
    }
    if (o->cafile || o->capath) {
        if (SSL_CTX_load_verify_locations(ctx, o->cafile, o->capath) != 1) {
            net_tls_errstr(e, sizeof e);
            snprintf(err, errlen, "tls: cafile/capath: %s", e);
            goto fail;
        }
        if (o->cafile) {
            STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(o->cafile);
            if (names) SSL_CTX_set_client_CA_list(ctx, names);
        }
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | (o->require_certificate ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0),
                           NULL);
    } else {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    }
    return ctx;
ssl_err:
    net_tls_errstr(e, sizeof e);
    snprintf(err, errlen, "tls: %s", e);
fail:
    if (ctx) SSL_CTX_free(ctx);
    return NULL;
}

SSL_CTX *net_tls_ctx_client(const net_tls_opts *o, char *err, size_t errlen) {
    char e[256];
    ERR_clear_error();
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        net_tls_errstr(e, sizeof e);
        snprintf(err, errlen, "tls: %s", e);
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    if (o->certfile || o->keyfile) {
        if (!o->certfile || !o->keyfile || SSL_CTX_use_certificate_chain_file(ctx, o->certfile) != 1 ||
            SSL_CTX_use_PrivateKey_file(ctx, o->keyfile, SSL_FILETYPE_PEM) != 1 ||
            SSL_CTX_check_private_key(ctx) != 1) {
            net_tls_errstr(e, sizeof e);
            snprintf(err, errlen, "tls: client certificate/key: %s", e);
            SSL_CTX_free(ctx);
            return NULL;
        }
    }
    if (o->insecure) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    } else {
        int ok = (o->cafile || o->capath) ? SSL_CTX_load_verify_locations(ctx, o->cafile, o->capath)
                                          : SSL_CTX_set_default_verify_paths(ctx);
        if (ok != 1) {
            net_tls_errstr(e, sizeof e);
            snprintf(err, errlen, "tls: cafile/capath: %s", e);
            SSL_CTX_free(ctx);
            return NULL;
        }
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    }
    return ctx;
}

/* move the records OpenSSL produced into the socket buffer */
static void net_tls_drain(net_conn *c) {
    net_tls *t = c->tls;
    size_t pend;
    while ((pend = BIO_ctrl_pending(t->wbio)) > 0) {
        if (buf_reserve(&c->wout, pend)) {
            net__fail(c, "out of memory");
            return;
        }
        int r = BIO_read(t->wbio, c->wout.data + c->wout.len, (int)pend);
        if (r <= 0) break;
        c->wout.len += (size_t)r;
    }
    net__mark_dirty(c);
}

static bool net_tls_is_ip(const char *h) {
    unsigned char b[16];
    return inet_pton(AF_INET, h, b) == 1 || inet_pton(AF_INET6, h, b) == 1;
}

int net_tls_attach(net_conn *c, SSL_CTX *ctx, bool server, const char *host, const char *sni, bool verify_host) {
    net_tls *t = calloc(1, sizeof *t);
    if (!t) return -1;
    t->server = server;
    t->ssl = SSL_new(ctx);
    t->rbio = BIO_new(BIO_s_mem());
    t->wbio = BIO_new(BIO_s_mem());
    if (!t->ssl || !t->rbio || !t->wbio) {
        if (t->ssl) SSL_free(t->ssl);
        if (t->rbio) BIO_free(t->rbio);
        if (t->wbio) BIO_free(t->wbio);
        free(t);
        return -1;
    }
    BIO_set_mem_eof_return(t->rbio, -1);
    SSL_set_bio(t->ssl, t->rbio, t->wbio);
    c->tls = t;
    if (server) {
        SSL_set_accept_state(t->ssl);
        return 0;
    }
    SSL_set_connect_state(t->ssl);
    const char *name = sni && *sni ? sni : host;
    if (name && !net_tls_is_ip(name)) SSL_set_tlsext_host_name(t->ssl, name);
    if (verify_host && host) {
        X509_VERIFY_PARAM *vp = SSL_get0_param(t->ssl);
        if (net_tls_is_ip(host)) X509_VERIFY_PARAM_set1_ip_asc(vp, host);
        else X509_VERIFY_PARAM_set1_host(vp, host, 0);
    }
    ERR_clear_error();
    SSL_do_handshake(t->ssl); /* ClientHello */
    net_tls_drain(c);
    return 0;
}

static void net_tls_take_cn(net_tls *t) {
    X509 *peer = SSL_get0_peer_certificate(t->ssl);
    if (!peer) return;
    X509_NAME *subj = X509_get_subject_name(peer);
    int i = subj ? X509_NAME_get_index_by_NID(subj, NID_commonName, -1) : -1;
    if (i < 0) return;
    ASN1_STRING *d = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, i));
    unsigned char *u = NULL;
    int n = ASN1_STRING_to_UTF8(&u, d);
    if (n >= 0 && u) {
        t->cn = malloc((size_t)n + 1);
        if (t->cn) {
            memcpy(t->cn, u, (size_t)n);
            t->cn[n] = 0;
            if (strlen(t->cn) != (size_t)n) { /* embedded NUL: refuse to report a misleading CN */
                free(t->cn);
                t->cn = NULL;
            }
        }
    }
    OPENSSL_free(u);
}

static void net_tls_handshake_failed(net_conn *c, int sslerr) {
    net_tls *t = c->tls;
    char e[256];
    if (sslerr == SSL_ERROR_SSL) net_tls_errstr(e, sizeof e);
    else snprintf(e, sizeof e, "ssl error %d", sslerr);
    long vr = SSL_get_verify_result(t->ssl);
    LOG_WARN("net", "event=tls_handshake_failed peer=%s role=%s err=\"%s\"%s%s", c->peer,
             t->server ? "server" : "client", e, vr != X509_V_OK ? " verify=" : "",
             vr != X509_V_OK ? X509_verify_cert_error_string(vr) : "");
    if (c->ob) {
        char why[300];
        snprintf(why, sizeof why, "tls handshake: %s", e);
        net__fail(c, why);
        return;
    }
    net_tls_drain(c); /* the alert, if any */
    net_conn_close(c);
}

void net_tls_wire_in(net_conn *c, const uint8_t *p, size_t n) {
    net_tls *t = c->tls;
    while (n > 0) {
        int w = BIO_write(t->rbio, p, n > 0x40000000 ? 0x40000000 : (int)n);
        if (w <= 0) {
            net__fail(c, "tls bio write");
            return;
        }
        p += w;
        n -= (size_t)w;
    }
    ERR_clear_error();
    if (!t->done) {
        int r = SSL_do_handshake(t->ssl);
        if (r != 1) {
            int e = SSL_get_error(t->ssl, r);
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
                net_tls_drain(c);
                return;
            }
            net_tls_handshake_failed(c, e);
            return;
        }
        t->done = true;
        net_tls_take_cn(t);
        net_tls_drain(c);
        LOG_DEBUG("net", "event=tls_handshake_done peer=%s version=%s cn=%s", c->peer, SSL_get_version(t->ssl),
                  t->cn ? t->cn : "-");
        net__transport_ready(c);
    }
    uint8_t *pb = c->nl->pbuf;
    while (c->state == NET_ST_OPEN || c->state == NET_ST_HANDSHAKE) {
        ERR_clear_error();
        size_t got = 0;
        int r = SSL_read_ex(t->ssl, pb, NET_RBUF_SIZE, &got);
        if (r == 1) {
            net__plain_in(c, pb, got);
            continue;
        }
        int e = SSL_get_error(t->ssl, r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) break;
        if (e == SSL_ERROR_ZERO_RETURN) { /* close_notify */
            net_tls_drain(c);
            if (c->state == NET_ST_OPEN) net_conn_close(c);
            else net__fail(c, "tls closed during handshake");
            return;
        }
        char es[256];
        net_tls_errstr(es, sizeof es);
        LOG_INFO("net", "event=tls_error peer=%s err=\"%s\"", c->peer, es);
        net__fail(c, "tls error");
        return;
    }
    if (c->state != NET_ST_CLOSED) net_tls_drain(c);
}

void net_tls_write(net_conn *c, const void *p, size_t n) {
    net_tls *t = c->tls;
    if (!t->done || n == 0 || c->state == NET_ST_CLOSED) return;
    ERR_clear_error();
    size_t done = 0;
    if (SSL_write_ex(t->ssl, p, n, &done) != 1 || done != n) {
        net__fail(c, "tls write");
        return;
    }
    net_tls_drain(c);
}

void net_tls_shutdown(net_conn *c) {
    net_tls *t = c->tls;
    ERR_clear_error();
    SSL_shutdown(t->ssl);
    net_tls_drain(c);
}

bool net_tls_ready(const net_conn *c) { return c->tls && c->tls->done; }
const char *net_tls_cn_of(const net_conn *c) { return c->tls ? c->tls->cn : NULL; }

void net_tls_free(net_conn *c) {
    net_tls *t = c->tls;
    if (!t) return;
    SSL_free(t->ssl);
    free(t->cn);
    free(t);
    c->tls = NULL;
}
