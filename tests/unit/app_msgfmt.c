/*
 * The pure parts of the messaging commands (src/app/msgfmt.h): durations,
 * on/off, names, terminal-safe text, the QR code's half blocks, and the
 * printing of contacts and message rows from daemon answers. The app is not
 * in libbc.a, so the source is included (as bench/ does with bench_*.c).
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "app/msgfmt.c"

static char *out;
static size_t out_len;

static FILE *
mem(void)
{
	free(out);
	out = NULL;
	FILE *f = open_memstream(&out, &out_len);
	cr_assert_not_null(f);
	return f;
}

static const char *
done(FILE *f)
{
	fclose(f);
	return out;
}

Test(msgfmt, durations)
{
	int64_t s = 0;
	cr_assert_eq(msgfmt_duration_s("90", 1000, &s), 0);
	cr_assert_eq(s, 90);
	cr_assert_eq(msgfmt_duration_s("90s", 1000, &s), 0);
	cr_assert_eq(s, 90);
	cr_assert_eq(msgfmt_duration_s("30m", 86400, &s), 0);
	cr_assert_eq(s, 1800);
	cr_assert_eq(msgfmt_duration_s("12h", 86400, &s), 0);
	cr_assert_eq(s, 43200);
	cr_assert_eq(msgfmt_duration_s("7d", 30 * 86400, &s), 0);
	cr_assert_eq(s, 604800);
	s = 5;
	const char *bad[] = {"",     "0",   "-1",
			     "1x",   "1dd", "d",
			     " 1",   "31d", "99999999999999999999",
			     "1.5h", NULL};
	for (size_t i = 0; bad[i]; i++)
		cr_assert_eq(msgfmt_duration_s(bad[i], 30 * 86400, &s), -1,
			     "%s", bad[i]);
	cr_assert_eq(s, 5, "a refused duration leaves the output alone");
}

Test(msgfmt, onoff_and_names)
{
	bool on = false;
	cr_assert_eq(msgfmt_onoff("on", &on), 0);
	cr_assert(on);
	cr_assert_eq(msgfmt_onoff("off", &on), 0);
	cr_assert(!on);
	cr_assert_eq(msgfmt_onoff("yes", &on), 0);
	cr_assert(on);
	cr_assert_eq(msgfmt_onoff("On", &on), -1);
	cr_assert_eq(msgfmt_onoff("", &on), -1);

	const char *why = NULL;
	cr_assert(msgfmt_name_ok("bob", &why));
	cr_assert(msgfmt_name_ok("Zoë Ünal", &why));
	cr_assert(!msgfmt_name_ok("", &why));
	cr_assert_not_null(why);
	why = NULL;
	cr_assert(!msgfmt_name_ok("a\nb", &why));
	cr_assert_not_null(why);
	char long_name[66];
	memset(long_name, 'x', 65);
	long_name[65] = 0;
	cr_assert(!msgfmt_name_ok(long_name, &why));
	long_name[64] = 0;
	cr_assert(msgfmt_name_ok(long_name, &why));
	cr_assert(!msgfmt_name_ok("\xff\xfe", &why), "not UTF-8");
}

Test(msgfmt, text_is_terminal_safe)
{
	FILE *f = mem();
	const char evil[] = "hi\x1b[2Jthere\x07\r\xc2\x9b"
			    "1m";
	msgfmt_text(f, evil, sizeof(evil) - 1, "", 0);
	cr_assert_str_eq(done(f), "hi?[2Jthere???1m");

	f = mem();
	msgfmt_text(f, "a\nb\tc", 5, "  ", 0);
	cr_assert_str_eq(done(f), "a\n  b c");

	f = mem();
	msgfmt_text(f, "hello world", 11, "", 5);
	cr_assert_str_eq(done(f), "hello ... (11 bytes)");

	/* A cut inside a 2-byte character backs off to its start. */
	f = mem();
	msgfmt_text(f, "ab\xc3\xa9z", 5, "", 3);
	cr_assert_str_eq(done(f), "ab ... (5 bytes)");
}

Test(msgfmt, qr_half_blocks)
{
	/* 3x3: dark diagonal. Rows pair up (y, y+1) with a 2-module quiet
	 * zone: (7 rows) -> 4 lines of 7 cells; light shows as block. */
	const unsigned char m[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
	FILE *f = mem();
	msgfmt_qr(f, m, 3);
	const char *s = done(f);
	const char *want = "\u2588\u2588\u2588\u2588\u2588\u2588\u2588\n"
			   "\u2588\u2588\u2584\u2580\u2588\u2588\u2588\n"
			   "\u2588\u2588\u2588\u2588\u2584\u2588\u2588\n"
			   "\u2580\u2580\u2580\u2580\u2580\u2580\u2580\n";
	cr_assert_str_eq(s, want);
}

Test(msgfmt, contacts_table)
{
	json_t *a = json_loads(
	    "{\"ok\":true,\"contacts\":[{\"name\":\"bob\",\"state\":\"ready\","
	    "\"safety_number\":\"12345 67890\",\"receipts\":false,"
	    "\"gateway\":null,\"same_gateway\":false},{\"name\":\"carol\","
	    "\"state\":\"accepting\",\"safety_number\":null,\"receipts\":true,"
	    "\"same_gateway\":true}]}",
	    0, NULL);
	cr_assert_not_null(a);
	FILE *f = mem();
	cr_assert_eq(msgfmt_contacts(f, a), 0);
	const char *s = done(f);
	cr_assert(strstr(s, "name") == s, "%s", s);
	cr_assert_not_null(strstr(s, "\nbob              ready      off      "
				     "12345 67890\n"),
			   "%s", s);
	cr_assert_not_null(strstr(s, "\ncarol            accepting  on       "
				     "(after the handshake)\n"),
			   "%s", s);
	cr_assert_not_null(strstr(s, "\nnote: carol uses your gateway"), "%s",
			   s);
	cr_assert_null(strstr(s, "note: bob"), "%s", s);
	json_decref(a);

	a = json_loads("{\"ok\":true,\"contacts\":[]}", 0, NULL);
	f = mem();
	cr_assert_eq(msgfmt_contacts(f, a), 0);
	cr_assert_not_null(strstr(done(f), "no contacts yet"));
	json_decref(a);

	a = json_loads("{\"ok\":true}", 0, NULL);
	f = mem();
	cr_assert_eq(msgfmt_contacts(f, a), -1);
	done(f);
	json_decref(a);
	a = json_loads("{\"contacts\":[{\"state\":\"ready\"}]}", 0, NULL);
	f = mem();
	cr_assert_eq(msgfmt_contacts(f, a), -1, "a row without a name");
	done(f);
	json_decref(a);
}

static json_t *
row(const char *js)
{
	json_t *j = json_loads(js, 0, NULL);
	cr_assert_not_null(j, "%s", js);
	return j;
}

Test(msgfmt, message_rows)
{
	setenv("TZ", "UTC", 1);
	tzset();
	/* 2026-11-28 05:00:00 UTC = 1795755600 s. */
	json_t *m =
	    row("{\"rev\":7,\"id\":\"00112233445566778899aabbccddeeff\","
		"\"contact\":\"bob\",\"dir\":\"out\",\"text\":\"hello "
		"bob\",\"bytes\":9,\"state\":\"delivered\",\"times\":"
		"{\"queued\":1795755600000,\"sent\":1795755600310,"
		"\"acknowledged\":1795755601200,"
		"\"delivered\":1795755602050}}");
	FILE *f = mem();
	cr_assert_eq(msgfmt_message(f, m, true, 0), 0);
	cr_assert_str_eq(
	    done(f), "05:00:00  to   bob  [delivered]  hello bob\n"
		     "          queued 05:00:00, sent +0.31 s, acknowledged "
		     "+1.20 s, delivered +2.05 s\n");
	cr_assert_eq(msgfmt_latency_ms(m, "queued", "delivered"), 2050);
	cr_assert_eq(msgfmt_latency_ms(m, "queued", "read"), -1);
	cr_assert_eq(msgfmt_msg_time(m), 1795755600000);

	f = mem();
	cr_assert_eq(msgfmt_state_change(f, m), 0);
	cr_assert_str_eq(done(f), "05:00:02  to   bob: \"hello bob\" is now "
				  "delivered (2.05 s after queued)\n");
	json_decref(m);

	m = row(
	    "{\"rev\":8,\"id\":\"ff\",\"contact\":\"alice\",\"dir\":\"in\","
	    "\"text\":\"line1\\nline2\",\"bytes\":11,\"state\":\"received\","
	    "\"times\":{\"received\":1795755603000}}");
	f = mem();
	cr_assert_eq(msgfmt_message(f, m, false, 0), 0);
	cr_assert_str_eq(done(f), "05:00:03  from alice  [received]  line1\n"
				  "          line2\n");
	cr_assert_eq(msgfmt_msg_time(m), 1795755603000);
	json_decref(m);

	/* Rows missing what is printed are refused, not printed half. */
	const char *bad[] = {"{}",
			     "{\"dir\":\"in\",\"contact\":\"a\","
			     "\"state\":\"read\"}",
			     "{\"dir\":\"in\",\"contact\":\"a\",\"state\":"
			     "\"read\",\"text\":5}",
			     NULL};
	for (size_t i = 0; bad[i]; i++) {
		m = row(bad[i]);
		f = mem();
		cr_assert_eq(msgfmt_message(f, m, true, 0), -1, "%s", bad[i]);
		cr_assert_eq(msgfmt_state_change(f, m), -1, "%s", bad[i]);
		done(f);
		json_decref(m);
	}
}
