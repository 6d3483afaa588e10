/*
 * driver.c: runs a harness without libFuzzer, over files and directories
 * (the seed corpus in make check), or writes its seeds (--seeds DIR).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_common.h"

static int run_file(const char *path) {
  FILE *f = fopen(path, "rb");
  uint8_t *buf;
  long size;
  if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 ||
      fseek(f, 0, SEEK_SET) != 0) {
    fprintf(stderr, "%s: %s\n", path, strerror(errno));
    if (f != NULL) {
      fclose(f);
    }
    return 1;
  }
  buf = malloc((size_t)size + 1);
  if (buf == NULL || fread(buf, 1, (size_t)size, f) != (size_t)size) {
    fprintf(stderr, "%s: read failed\n", path);
    free(buf);
    fclose(f);
    return 1;
  }
  fclose(f);
  LLVMFuzzerTestOneInput(buf, (size_t)size);
  free(buf);
  return 0;
}

static int run_path(const char *path, int *count) {
  struct stat st;
  DIR *d;
  struct dirent *e;
  int rv = 0;
  if (stat(path, &st) != 0) {
    fprintf(stderr, "%s: %s\n", path, strerror(errno));
    return 1;
  }
  if (!S_ISDIR(st.st_mode)) {
    (*count)++;
    return run_file(path);
  }
  d = opendir(path);
  if (d == NULL) {
    fprintf(stderr, "%s: %s\n", path, strerror(errno));
    return 1;
  }
  while ((e = readdir(d)) != NULL) {
    char sub[4096];
    if (e->d_name[0] == '.') {
      continue;
    }
    snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
    rv |= run_path(sub, count);
  }
  closedir(d);
  return rv;
}

typedef struct seed_dir {
  const char *dir;
  int n;
  int failed;
} seed_dir;

static void write_seed(void *arg, const uint8_t *data, size_t len) {
  seed_dir *sd = arg;
  char path[4096];
  FILE *f;
  snprintf(path, sizeof(path), "%s/seed-%03d", sd->dir, sd->n++);
  f = fopen(path, "wb");
  if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
    fprintf(stderr, "%s: write failed\n", path);
    sd->failed = 1;
  }
}

int main(int argc, char **argv) {
  int i, rv = 0, count = 0;
  if (argc == 3 && strcmp(argv[1], "--seeds") == 0) {
    seed_dir sd = {argv[2], 0, 0};
    fuzz_seeds(write_seed, &sd);
    printf("%d seeds written to %s\n", sd.n, sd.dir);
    return sd.failed;
  }
  if (argc < 2) {
    fprintf(stderr, "usage: %s FILE|DIR... | --seeds DIR\n", argv[0]);
    return 2;
  }
  for (i = 1; i < argc; i++) {
    rv |= run_path(argv[i], &count);
  }
  printf("%s: %d inputs run\n", argv[0], count);
  return rv != 0 || count == 0;
}
