/* The pure parts of the messaging commands (msgfmt.h). */
#include "app/msgfmt.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wire/e2e_msg.h"

int
msgfmt_duration_s(const char *s, int64_t max, int64_t *out)
{
	char *end;
	errno = 0;
	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	long long v = strtoll(s, &end, 10);
	int64_t unit = 1;
	if (errno != 0 || v <= 0)
		return -1;
	switch (*end) {
	case '\0':
	case 's':
		break;
	case 'm':
		unit = 60;
		break;
	case 'h':
		unit = 3600;
		break;
	case 'd':
		unit = 86400;
		break;
	default:
		return -1;
	}
	if (*end != '\0' && end[1] != '\0')
		return -1;
	if (v > max / unit)
		return -1;
	*out = (int64_t)v * unit;
	return 0;
}

int
msgfmt_onoff(const char *s, bool *on)
{
	static const char *const yes[] = {"on", "yes", "true"};
	static const char *const no[] = {"off", "no", "false"};
	for (size_t i = 0; i < 3; i++) {
		if (strcmp(s, yes[i]) == 0) {
			*on = true;
			return 0;
		}
		if (strcmp(s, no[i]) == 0) {
			*on = false;
			return 0;
		}
	}
	return -1;
}

bool
msgfmt_name_ok(const char *name, const char **why)
{
	size_t len = strlen(name);
	if (len == 0 || len > 64) {
		*why = "a contact name has 1 to 64 bytes";
		return false;
	}
	if (!e2e_name_valid(name, len)) {
		*why = "a contact name is UTF-8 without control characters";
		return false;
	}
	return true;
}

void
msgfmt_text(FILE *f, const char *text, size_t len, const char *indent,
	    size_t max)
{
	size_t n = max != 0 && len > max ? max : len;
	/* Cut on a character boundary, not inside a UTF-8 sequence. */
	while (n < len && n > 0 && ((unsigned char)text[n] & 0xc0) == 0x80)
		n--;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c == '\n') {
			fprintf(f, "\n%s", indent);
		} else if (c < 0x20 || c == 0x7f) {
			fputc(c == '\t' ? ' ' : '?', f);
		} else if (c == 0xc2 && i + 1 < n &&
			   (unsigned char)text[i + 1] >= 0x80 &&
			   (unsigned char)text[i + 1] <= 0x9f) {
			/* U+0080..U+009F: C1 controls (CSI among them). */
			fputc('?', f);
			i++;
		} else {
			fputc(c, f);
		}
	}
	if (n < len)
		fprintf(f, " ... (%zu bytes)", len);
}

static bool
qr_dark(const unsigned char *m, int width, int x, int y)
{
	if (x < 0 || y < 0 || x >= width || y >= width)
		return false;
	return (m[(size_t)y * (size_t)width + (size_t)x] & 1) != 0;
}

void
msgfmt_qr(FILE *f, const unsigned char *modules, int width)
{
	/* Upper half, lower half, both, none: the cell shows the LIGHT
	 * modules, so the code reads dark-on-light on dark terminals too. */
	const int q = 2;
	for (int y = -q; y < width + q; y += 2) {
		for (int x = -q; x < width + q; x++) {
			bool top = !qr_dark(modules, width, x, y);
			bool bot = !qr_dark(modules, width, x, y + 1);
			if (y + 1 >= width + q)
				bot = false;
			if (top && bot)
				fputs("\u2588", f);
			else if (top)
				fputs("\u2580", f);
			else if (bot)
				fputs("\u2584", f);
			else
				fputc(' ', f);
		}
		fputc('\n', f);
	}
}

int
msgfmt_contacts(FILE *f, json_t *answer)
{
	json_t *list = json_object_get(answer, "contacts");
	size_t i;
	json_t *c;
	if (!json_is_array(list))
		return -1;
	if (json_array_size(list) == 0) {
		fprintf(f, "no contacts yet: 'backchannel invite --name NAME' "
			   "or 'backchannel accept CODE --name NAME'\n");
		return 0;
	}
	fprintf(f, "%-16s %-10s %-8s %s\n", "name", "state", "receipts",
		"safety number");
	json_array_foreach(list, i, c)
	{
		const char *name =
		    json_string_value(json_object_get(c, "name"));
		const char *st = json_string_value(json_object_get(c, "state"));
		const char *sn =
		    json_string_value(json_object_get(c, "safety_number"));
		json_t *r = json_object_get(c, "receipts");
		if (!name || !st)
			return -1;
		msgfmt_text(f, name, strlen(name), "", 64);
		fprintf(f, "%*s %-10s %-8s %s\n",
			16 - (int)(strlen(name) < 16 ? strlen(name) : 16), "",
			st, json_is_false(r) ? "off" : "on",
			sn ? sn : "(after the handshake)");
	}
	json_array_foreach(list, i, c)
	{
		const char *name =
		    json_string_value(json_object_get(c, "name"));
		if (!json_is_true(json_object_get(c, "same_gateway")))
			continue;
		fprintf(f, "note: ");
		msgfmt_text(f, name, strlen(name), "", 64);
		fprintf(f, " uses your gateway, which can then match your "
			   "traffic with theirs more easily (docs/"
			   "threat-model.md)\n");
	}
	return 0;
}

static int64_t
time_of(json_t *msg, const char *state)
{
	json_t *t = json_object_get(json_object_get(msg, "times"), state);
	return json_is_integer(t) ? (int64_t)json_integer_value(t) : -1;
}

int64_t
msgfmt_latency_ms(json_t *msg, const char *from, const char *to)
{
	int64_t a = time_of(msg, from), b = time_of(msg, to);
	return a < 0 || b < 0 ? -1 : b - a;
}

int64_t
msgfmt_msg_time(json_t *msg)
{
	int64_t t = time_of(msg, "queued");
	if (t < 0)
		t = time_of(msg, "received");
	return t < 0 ? 0 : t;
}

static void
clock_of(FILE *f, int64_t ms)
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;
	char b[16] = "--:--:--";
	if (ms > 0 && localtime_r(&s, &tm) != NULL)
		strftime(b, sizeof(b), "%H:%M:%S", &tm);
	fputs(b, f);
}

/* "  queued 12:00:01, sent +0.31 s, ..." for the states reached. */
static void
times_line(FILE *f, json_t *msg, bool out)
{
	static const char *const o[] = {"queued", "sent", "acknowledged",
					"delivered", "read"};
	static const char *const in[] = {"sent", "received", "read"};
	const char *const *st = out ? o : in;
	size_t n = out ? 5 : 3;
	const char *first = out ? "queued" : "received";
	int64_t t0 = time_of(msg, first);
	fputs("          ", f);
	fputs(first, f);
	fputc(' ', f);
	clock_of(f, t0);
	for (size_t i = 0; i < n; i++) {
		int64_t t = time_of(msg, st[i]);
		if (strcmp(st[i], first) == 0 || t < 0 || t0 < 0)
			continue;
		fprintf(f, ", %s %+.2f s", st[i], (double)(t - t0) / 1000.0);
	}
	fputc('\n', f);
}

int
msgfmt_message(FILE *f, json_t *msg, bool times, size_t max)
{
	const char *dir = json_string_value(json_object_get(msg, "dir"));
	const char *who = json_string_value(json_object_get(msg, "contact"));
	const char *st = json_string_value(json_object_get(msg, "state"));
	json_t *text = json_object_get(msg, "text");
	if (!dir || !who || !st || !json_is_string(text))
		return -1;
	bool out = strcmp(dir, "out") == 0;
	clock_of(f, msgfmt_msg_time(msg));
	fprintf(f, "  %s ", out ? "to  " : "from");
	msgfmt_text(f, who, strlen(who), "", 64);
	fprintf(f, "  [%s]  ", st);
	msgfmt_text(f, json_string_value(text), json_string_length(text),
		    "          ", max);
	fputc('\n', f);
	if (times)
		times_line(f, msg, out);
	return 0;
}

int
msgfmt_state_change(FILE *f, json_t *msg)
{
	const char *dir = json_string_value(json_object_get(msg, "dir"));
	const char *who = json_string_value(json_object_get(msg, "contact"));
	const char *st = json_string_value(json_object_get(msg, "state"));
	json_t *text = json_object_get(msg, "text");
	if (!dir || !who || !st || !json_is_string(text))
		return -1;
	bool out = strcmp(dir, "out") == 0;
	int64_t t = time_of(msg, st);
	int64_t d = msgfmt_latency_ms(msg, out ? "queued" : "received", st);
	clock_of(f, t > 0 ? t : msgfmt_msg_time(msg));
	fprintf(f, "  %s ", out ? "to  " : "from");
	msgfmt_text(f, who, strlen(who), "", 64);
	fputs(": \"", f);
	msgfmt_text(f, json_string_value(text), json_string_length(text), " ",
		    24);
	fprintf(f, "\" is now %s", st);
	if (d >= 0)
		fprintf(f, " (%.2f s after %s)", (double)d / 1000.0,
			out ? "queued" : "received");
	fputc('\n', f);
	return 0;
}
