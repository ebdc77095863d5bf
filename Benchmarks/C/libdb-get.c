/*
 * libdb-get: the baseline for db: exact lookups. Opens a makemap-built hash database read-only with libdb's
 * default cache (what smtpd's table_db does), then times DB->get for every key of a key file (one per line),
 * looking each key up with its trailing NUL as makemap stores it, over several rounds; prints the best round.
 *
 *   cc -O2 -o libdb-get libdb-get.c -ldb
 *   libdb-get DBFILE KEYFILE [ROUNDS] [stat]
 *
 * With `stat`, each get is preceded by stat(2) of the file, as smtpd's table_db_lookup does to notice a
 * rebuilt map: the like-for-like baseline for lookups that check for changes.
 */
#include <sys/stat.h>
#include <db.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: libdb-get DBFILE KEYFILE [ROUNDS]\n");
        return 2;
    }
    int rounds = argc > 3 ? atoi(argv[3]) : 5;
    int check = argc > 4 && strcmp(argv[4], "stat") == 0;

    FILE *f = fopen(argv[2], "rb");
    if (f == NULL) { perror(argv[2]); return 2; }
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    rewind(f);
    char *text = malloc((size_t)size + 1);
    if (text == NULL || fread(text, 1, (size_t)size, f) != (size_t)size) { perror("read"); return 2; }
    fclose(f);
    text[size] = '\0';

    /* Keys in place: each newline becomes the key's NUL, which makemap stores with the key. */
    size_t nkeys = 0, cap = 1024;
    char **keys = malloc(cap * sizeof *keys);
    size_t *lens = malloc(cap * sizeof *lens);
    for (char *p = text; p < text + size;) {
        char *nl = memchr(p, '\n', (size_t)(text + size - p));
        char *end = nl ? nl : text + size;
        if (end > p) {
            if (nkeys == cap) {
                cap *= 2;
                keys = realloc(keys, cap * sizeof *keys);
                lens = realloc(lens, cap * sizeof *lens);
            }
            *end = '\0';
            for (char *c = p; c < end; c++) if (*c >= 'A' && *c <= 'Z') *c |= 0x20;  /* smtpd folds keys */
            keys[nkeys] = p;
            lens[nkeys] = (size_t)(end - p) + 1;
            nkeys++;
        }
        p = end + 1;
    }

    DB *db;
    int ret = db_create(&db, NULL, 0);
    if (ret == 0) ret = db->open(db, NULL, argv[1], NULL, DB_HASH, DB_RDONLY, 0);
    if (ret != 0) { fprintf(stderr, "%s: %s\n", argv[1], db_strerror(ret)); return 2; }

    double best = 1e300;
    size_t found = 0;
    for (int r = 0; r < rounds; r++) {
        found = 0;
        double t0 = now();
        for (size_t i = 0; i < nkeys; i++) {
            DBT key, value;
            struct stat sb;
            if (check && stat(argv[1], &sb) != 0) { perror(argv[1]); return 2; }
            memset(&key, 0, sizeof key);
            memset(&value, 0, sizeof value);
            key.data = keys[i];
            key.size = (u_int32_t)lens[i];
            if (db->get(db, NULL, &key, &value, 0) == 0 && value.size > 0) found++;
        }
        double t = now() - t0;
        if (t < best) best = t;
    }
    db->close(db, 0);
    printf("libdb-get%s db=%s queries=%zu found=%zu ns_per_op=%.1f\n", check ? "+stat" : "", argv[1], nkeys, found, best / (double)nkeys * 1e9);
    return 0;
}
