/*
 * The pure parts of the messaging commands (cmd_invite.c, cmd_contacts.c,
 * cmd_message.c): argument parsing and the printing of the daemon's answers
 * (docs/client-api.md) for humans. No I/O but the FILE given, so
 * tests/unit/app_msgfmt.c checks them directly.
 */
#ifndef BC_APP_MSGFMT_H
#define BC_APP_MSGFMT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The largest text `send` takes (docs/client-api.md). */
#define MSGFMT_TEXT_MAX 65515

/* "90", "90s", "30m", "12h", "7d" -> seconds in 1..max. 0 or -1. */
int msgfmt_duration_s(const char *s, int64_t max, int64_t *out);

/* "on" / "off" (also yes/no, true/false). 0 or -1. */
int msgfmt_onoff(const char *s, bool *on);

/* A contact name the daemon will take: 1..64 bytes of UTF-8 without
 * control characters. false with the reason in why. */
bool msgfmt_name_ok(const char *name, const char **why);

/*
 * Writes text for a terminal: control characters and escape sequences the
 * other party chose are never passed through (an ESC could rewrite the
 * screen); each becomes '?'. Newlines are kept, each followed by indent.
 * At most max bytes of text (0: all), then " ... (N bytes)".
 */
void msgfmt_text(FILE *f, const char *text, size_t len, const char *indent,
		 size_t max);

/* A QR code as text: two module rows per line with Unicode half blocks,
 * dark on a light background, with a quiet zone of 2 modules. modules is
 * width*width bytes, bit 0 = dark (libqrencode's layout). */
void msgfmt_qr(FILE *f, const unsigned char *modules, int width);

/* The `contacts` answer as a table; -1 when it is not one. */
int msgfmt_contacts(FILE *f, json_t *answer);

/* Milliseconds between two states of a message's "times", or -1. */
int64_t msgfmt_latency_ms(json_t *msg, const char *from, const char *to);

/*
 * One message row of a `messages` answer: time, direction, contact, state,
 * text (at most max bytes, 0: all); with times, each state reached with its
 * delay after the first (queued, or received). -1 when the row is not one.
 */
int msgfmt_message(FILE *f, json_t *msg, bool times, size_t max);

/* A line for a change of state of a message already shown. */
int msgfmt_state_change(FILE *f, json_t *msg);

/* The time a row sorts by: queued (out) or received (in), else 0. */
int64_t msgfmt_msg_time(json_t *msg);

#endif /* BC_APP_MSGFMT_H */
