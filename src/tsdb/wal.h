/* tsdb/wal: the time-series store's write-ahead log. A directory of numbered segment files
 * (<dir>/00000001.wal, ...), each a 24-byte header (magic, version, first LSN) followed by
 * CRC32C-checked records carrying opaque payloads (the engine puts one encoded write batch in one
 * record, so a batch is atomic). Every record gets a log sequence number (LSN), 1, 2, 3, ...,
 * monotonic across segments and restarts. Format byte by byte and guarantees: docs/tsdb-wal.md.
 *
 * Durability follows the broker's store (mqtt/store.h): tsdb_wal_append() only buffers; the host
 * calls tsdb_wal_flush() BEFORE it acknowledges the writes, so whatever is acknowledged has been
 * write()n (survives kill -9); fsync follows the policy:
 *   TSDB_FSYNC_NEVER   write() only: survives a process crash, not a power loss
 *   TSDB_FSYNC_BATCH   fdatasync at most every `fsync_ms` (the caller passes the time)
 *   TSDB_FSYNC_ALWAYS  fdatasync inside every flush that wrote: acknowledged = on disk
 * A failed fdatasync makes the log read-only until it is reopened (the kernel may have dropped the
 * dirty pages; only a replay from disk tells what is really there).
 *
 * Open = recovery: tsdb_wal_open() replays every valid record in LSN order through a callback,
 * cuts a torn tail of the last segment (LOG_WARN), skips a single corrupt record that is followed
 * by valid ones, skips the unreadable rest of an older segment (LOG_WARN with file and offset),
 * ignores foreign files with a warning, and never refuses to open because of file contents.
 *
 *   tsdb_wal_conf_defaults(c)          BATCH, 1000 ms, 16 MiB segments, 1 MiB append buffer
 *   tsdb_wal_policy_parse(s)           "never"|"batch"|"always" -> TSDB_FSYNC_*, -1 otherwise
 *   tsdb_wal_open(dir,c,after,fn,ud,stats,err,n)  create/recover; fn sees records with LSN > after;
 *                                      later appends get LSNs > after too; NULL + err on failure
 *   tsdb_wal_append(w,type,p,n)        buffer one record (type 1..255); its LSN, 0 on error
 *   tsdb_wal_flush(w,now_ms)           write() everything appended; fdatasync per policy; 0/-1
 *   tsdb_wal_sync(w)                   flush + fdatasync now, whatever the policy; 0/-1
 *   tsdb_wal_written_lsn(w)            last LSN handed to the kernel (survives kill -9)
 *   tsdb_wal_synced_lsn(w)             last LSN known to be on disk (survives a power cut)
 *   tsdb_wal_next_lsn(w)               LSN the next append will get
 *   tsdb_wal_rotate(w)                 flush and start a new segment (if the current one has records)
 *   tsdb_wal_checkpoint(w,lsn)         everything <= lsn is durable elsewhere: delete every whole
 *                                      older segment whose records are all <= lsn; count deleted
 *   tsdb_wal_segments(w)               number of segment files
 *   tsdb_wal_close(w)                  flush, fdatasync (unless NEVER and clean), close, free
 *   tsdb_wal_decode_segment(p,n,fn,ud,scan)  decode a segment image from memory (fuzzing, tools):
 *                                      0 with scan filled, -1 when the header is not a WAL header
 *   tsdb_crc32c(crc,p,n)               CRC-32C (Castagnoli); start with crc = 0 */
#ifndef TE_TSDB_WAL_H
#define TE_TSDB_WAL_H
#include <stddef.h>
#include <stdint.h>

enum { TSDB_FSYNC_NEVER = 0, TSDB_FSYNC_BATCH, TSDB_FSYNC_ALWAYS };

#define TSDB_WAL_HEADER_SIZE 24u
#define TSDB_WAL_RECORD_OVERHEAD 9u            /* len u32 + crc u32 + type u8 */
#define TSDB_WAL_MAX_RECORD (256u << 20)       /* largest payload accepted and decoded */

typedef struct tsdb_wal tsdb_wal;

typedef struct tsdb_wal_conf {
    int policy;            /* TSDB_FSYNC_* */
    uint32_t fsync_ms;     /* BATCH: longest time between fdatasyncs (0 -> 1000) */
    uint64_t segment_size; /* rotate when a segment would grow past this (0 -> 16 MiB) */
    size_t buffer_cap;     /* append buffer; larger records are written directly (0 -> 1 MiB) */
} tsdb_wal_conf;

/* what recovery found; every counter covers the whole directory */
typedef struct tsdb_wal_stats {
    uint32_t segments;        /* valid segment files */
    uint64_t records;         /* valid records seen (delivered + skipped as <= after) */
    uint64_t delivered;       /* records passed to the callback */
    uint64_t bytes;           /* payload bytes delivered */
    uint64_t torn_bytes;      /* bytes cut from the tail of the last segment */
    uint32_t corrupt_records; /* single corrupt records skipped (valid records followed) */
    uint32_t corrupt_regions; /* unreadable rests of segments skipped or cut */
    uint32_t ignored_files;   /* foreign or unusable files in the directory */
    uint64_t first_lsn, last_lsn; /* of the records delivered (0 when none) */
} tsdb_wal_stats;

/* replay callback: nonzero aborts tsdb_wal_open (which then fails with "replay aborted") */
typedef int (*tsdb_wal_fn)(void *ud, uint64_t lsn, uint8_t type, const uint8_t *payload, size_t len);

/* result of decoding one segment image */
typedef struct tsdb_wal_scan {
    uint64_t base_lsn;        /* LSN of the segment's first record (from the header) */
    uint64_t count;           /* LSNs used: records up to good_end, corrupt-skipped ones included */
    uint64_t valid;           /* records that passed the checks */
    uint64_t good_end;        /* offset just past the last record that can be trusted */
    uint32_t corrupt_records; /* skipped single records */
    int damaged;              /* 1: bytes after good_end are not records (torn tail or corruption) */
    int torn;                 /* 1: the damage is an incomplete or unverifiable last record */
    uint64_t bad_offset;      /* where the damage starts (== good_end when damaged) */
} tsdb_wal_scan;

void tsdb_wal_conf_defaults(tsdb_wal_conf *c);
int tsdb_wal_policy_parse(const char *s);
tsdb_wal *tsdb_wal_open(const char *dir, const tsdb_wal_conf *c, uint64_t after_lsn, tsdb_wal_fn fn, void *ud,
                        tsdb_wal_stats *stats, char *err, size_t errlen);
uint64_t tsdb_wal_append(tsdb_wal *w, uint8_t type, const void *p, size_t n);
int tsdb_wal_flush(tsdb_wal *w, uint64_t now_ms);
int tsdb_wal_sync(tsdb_wal *w);
uint64_t tsdb_wal_written_lsn(const tsdb_wal *w);
uint64_t tsdb_wal_synced_lsn(const tsdb_wal *w);
uint64_t tsdb_wal_next_lsn(const tsdb_wal *w);
int tsdb_wal_rotate(tsdb_wal *w);
int tsdb_wal_checkpoint(tsdb_wal *w, uint64_t lsn);
size_t tsdb_wal_segments(const tsdb_wal *w);
void tsdb_wal_close(tsdb_wal *w);
int tsdb_wal_decode_segment(const uint8_t *p, size_t n, tsdb_wal_fn fn, void *ud, tsdb_wal_scan *scan);
uint32_t tsdb_crc32c(uint32_t crc, const void *p, size_t n);
#endif
