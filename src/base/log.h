/* log: leveled key=value logging to stderr.
 *   te_log_set_level(l)        minimum level printed (TE_LOG_DEBUG..TE_LOG_ERROR)
 *   te_log(l, module, fmt,...) one line: "ts level=.. mod=.. <fmt>" */
#ifndef TE_BASE_LOG_H
#define TE_BASE_LOG_H
enum { TE_LOG_DEBUG = 0, TE_LOG_INFO, TE_LOG_NOTICE, TE_LOG_WARN, TE_LOG_ERROR, TE_LOG_NONE };
void te_log_set_level(int level);
int te_log_level(void);
void te_log(int level, const char *mod, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
#define LOG_DEBUG(mod, ...) do { if (te_log_level() <= TE_LOG_DEBUG) te_log(TE_LOG_DEBUG, mod, __VA_ARGS__); } while (0)
#define LOG_INFO(mod, ...) te_log(TE_LOG_INFO, mod, __VA_ARGS__)
#define LOG_NOTICE(mod, ...) te_log(TE_LOG_NOTICE, mod, __VA_ARGS__)
#define LOG_WARN(mod, ...) te_log(TE_LOG_WARN, mod, __VA_ARGS__)
#define LOG_ERROR(mod, ...) te_log(TE_LOG_ERROR, mod, __VA_ARGS__)
#endif
