/* Standalone driver for fuzz targets built without libFuzzer: feeds every file of the given
 * directories (or files) to LLVMFuzzerTestOneInput once, plus truncations of each, so `make test`
 * replays the seed corpus under ASan/UBSan. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
    size_t got = fread(buf, 1, (size_t)n, f);
    fclose(f);
    for (size_t cut = 0; cut < got; cut += 1 + got / 16) {
        uint8_t *part = malloc(cut ? cut : 1); /* exact-size copy so ASan sees overreads */
        memcpy(part, buf, cut);
        LLVMFuzzerTestOneInput(part, cut);
        free(part);
    }
    LLVMFuzzerTestOneInput(buf, got);
    free(buf);
    return 0;
}

int main(int argc, char **argv) {
    int files = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) { fprintf(stderr, "fuzz: cannot stat %s\n", argv[i]); return 1; }
        if (S_ISDIR(st.st_mode)) {
            DIR *d = opendir(argv[i]);
            struct dirent *e;
            while (d && (e = readdir(d))) {
                if (e->d_name[0] == '.') continue;
                char p[4096];
                snprintf(p, sizeof p, "%s/%s", argv[i], e->d_name);
                if (run_file(p) == 0) files++;
            }
            if (d) closedir(d);
        } else if (run_file(argv[i]) == 0) files++;
    }
    printf("fuzz: %d inputs replayed\n", files);
    return files > 0 ? 0 : 1;
}
