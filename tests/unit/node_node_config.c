#include <criterion/criterion.h>
#include <string.h>

#include "node/node_config.h"

#define GOOD                                                               \
	"[node]\nrole = mix\ndata_dir = /tmp/x\nlisten = 127.0.0.1:7000\n" \
	"authorities = AAAA@127.0.0.1:8000\n"

Test(node_config, minimal_config_gets_defaults)
{
	struct node_config c;
	char err[256];
	cr_assert_eq(node_config_load_string(GOOD, &c, err, sizeof(err)), 0,
		     "%s", err);
	cr_assert_eq(c.role, NODE_ROLE_MIX);
	cr_assert_eq(c.workers, 0);
	cr_assert_eq(c.queue_capacity, 100000);
	cr_assert_eq(c.epoch_length_ms, 1200000);
	cr_assert_str_eq(c.metrics_listen, "");
	cr_assert_str_eq(c.identity_key, "identity.key");
	char *p = node_config_path(&c, c.link_key);
	cr_assert_str_eq(p, "/tmp/x/link.key");
	free(p);
	node_config_free(&c);
}

static void
expect_error(const char *text, const char *want)
{
	struct node_config c;
	char err[256];
	cr_assert_eq(node_config_load_string(text, &c, err, sizeof(err)), -1,
		     "accepted: %s", text);
	cr_assert(strstr(err, want), "error '%s' lacks '%s'", err, want);
	cr_assert_null(strchr(err, '\n'), "more than one line: %s", err);
}

Test(node_config, each_bad_key_is_named)
{
	expect_error("[node]\ndata_dir = /x\nlisten = 127.0.0.1:1\n"
		     "authorities = a\n",
		     "[node] role: missing");
	expect_error(GOOD "[node]\nrole = gateway\n", "[node] role: set twice");
	expect_error("[node]\nrole = relay\ndata_dir = /x\n"
		     "listen = 127.0.0.1:1\nauthorities = a\n",
		     "[node] role: 'relay' is not mix or gateway");
	expect_error(GOOD "[network]\ngrace = 1500ms\n",
		     "[network] grace: must be whole seconds");
	expect_error("[node]\nrole = mix\ndata_dir = /x\nlisten = localhost:1\n"
		     "authorities = a\n",
		     "[node] listen:");
	expect_error("[node]\nrole = mix\ndata_dir = /x\n"
		     "listen = 127.0.0.1:70000\nauthorities = a\n",
		     "[node] listen:");
}

Test(node_config, bounds_and_types)
{
	char text[512];
	const char *bad[][2] = {
	    {"workers = 65", "[node] workers: 65 is out of range"},
	    {"workers = two", "[node] workers: 'two' is not a valid"},
	    {"queue_capacity = 8", "[node] queue_capacity"},
	    {"dir_step = 1ms", "[node] dir_step"},
	    {"metrics_listen = :80", "[node] metrics_listen"},
	    {"log_level = loud", "[node] log_level"},
	    {"colour = blue", "[node] colour: unknown key"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text),
			 "[node]\nrole = mix\ndata_dir = /x\n"
			 "listen = 127.0.0.1:1\nauthorities = a\n%s\n",
			 bad[i][0]);
		expect_error(text, bad[i][1]);
	}
}

Test(node_config, addr_split)
{
	char host[64];
	uint16_t port;
	cr_assert_eq(node_addr_split("127.0.0.1:80", host, 64, &port), 0);
	cr_assert_str_eq(host, "127.0.0.1");
	cr_assert_eq(port, 80);
	cr_assert_eq(node_addr_split("[::1]:0", host, 64, &port), 0);
	cr_assert_str_eq(host, "::1");
	cr_assert_eq(node_addr_split("1.2.3.4:", host, 64, &port), -1);
	cr_assert_eq(node_addr_split("1.2.3.4:-1", host, 64, &port), -1);
	cr_assert_eq(node_addr_split("example.org:1", host, 64, &port), -1);
	cr_assert_eq(node_addr_split("[::1:1", host, 64, &port), -1);
}
