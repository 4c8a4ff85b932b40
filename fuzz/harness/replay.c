/*
 * Corpus replay: runs a fuzz target's LLVMFuzzerTestOneInput over every file
 * of a corpus directory without a fuzzing engine, so the normal test run (and
 * its sanitizer build) checks every input the fuzzer ever kept.
 */
#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		fprintf(stderr, "replay: cannot open %s\n", path);
		return -1;
	}
	size_t cap = 4096, len = 0;
	uint8_t *buf = malloc(cap);
	if (buf == NULL)
		abort();
	for (;;) {
		if (len == cap) {
			cap *= 2;
			buf = realloc(buf, cap);
			if (buf == NULL)
				abort();
		}
		size_t n = fread(buf + len, 1, cap - len, f);
		if (n == 0)
			break;
		len += n;
	}
	fclose(f);
	/* A copy of exactly len bytes lets ASan see reads past the input. */
	uint8_t *exact = malloc(len ? len : 1);
	if (exact == NULL)
		abort();
	memcpy(exact, buf, len);
	free(buf);
	LLVMFuzzerTestOneInput(exact, len);
	free(exact);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc != 2 || strcmp(argv[1], "--help") == 0) {
		fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
		return 2;
	}
	DIR *d = opendir(argv[1]);
	if (d == NULL) {
		fprintf(stderr, "replay: no corpus at %s\n", argv[1]);
		return 1;
	}
	unsigned long n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char path[4096];
		int w = snprintf(path, sizeof(path), "%s/%s", argv[1], e->d_name);
		if (w < 0 || (size_t)w >= sizeof(path))
			continue;
		if (replay_file(path) == 0)
			n++;
	}
	closedir(d);
	if (n == 0) {
		fprintf(stderr, "replay: corpus %s is empty\n", argv[1]);
		return 1;
	}
	printf("%lu inputs replayed\n", n);
	return 0;
}
