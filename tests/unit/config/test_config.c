/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The configuration parser: a good file parses to the right values; each bad
 * one fails with "FILE:LINE: [section] key: ..." naming the right line.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "pkt_ecn.h"
#include "gre.h"
#include "pptp.h"

static char path[64];
static char errbuf[4096];

static const char *good =
	"# a comment\n"
	"[dpvpn]\n"
	"mbufs = 4095\n"
	"idle_sleep_us = 10\n"
	"[outside]\n"
	"device = net_null0\n"
	"address = 192.0.2.1/24\n"
	"gateway = 192.0.2.254\n"
	"static_neighbors = 192.0.2.9 02:00:00:00:00:09, 192.0.2.10 02:00:00:00:00:0a\n"
	"[inside]\n"
	"device = net_null1\n"
	"devargs = copy=1\n"
	"address = 10.0.0.1/24\n"
	"[tunnel 7]\n"
	"protocol = gre\n"
	"name = branch-7\n"
	"peer = 198.51.100.7\n"
	"key = 42\n"
	"sequence = yes\n"
	"routes = 10.7.0.0/16, 10.8.1.0/24\n"
	"routes = 10.9.0.0/16\n"
	"[tunnel 8]\n"
	"protocol = gre\n"
	"peer = 198.51.100.8\n"
	"okey = 9\n";

/* Writes text to the temp file and loads it, capturing stderr into errbuf. */
static int
load(const char *text, struct dpvpn_config *cfg)
{
	FILE *f = fopen(path, "w");
	FILE *err = tmpfile();
	int saved = dup(2), rc;
	size_t n;

	fputs(text, f);
	fclose(f);
	fflush(stderr);
	dup2(fileno(err), 2);
	rc = config_load(path, cfg);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(err);
	n = fread(errbuf, 1, sizeof(errbuf) - 1, err);
	errbuf[n] = '\0';
	fclose(err);
	return rc;
}

static void
test_good(void)
{
	struct dpvpn_config cfg;

	CHECK(load(good, &cfg) == 0);
	CHECK_EQ(errbuf[0], 0);
	CHECK_EQ(cfg.mbufs, 4095);
	CHECK_EQ(cfg.idle_sleep_us, 10);
	CHECK_EQ(cfg.max_tunnels, 1024); /* default */
	CHECK(strcmp(cfg.outside.device, "net_null0") == 0);
	CHECK(cfg.outside.addr == RTE_BE32(0xc0000201) && cfg.outside.subnet.depth == 24);
	CHECK(cfg.outside.gateway == RTE_BE32(0xc00002fe));
	CHECK_EQ(cfg.outside.nb_static, 2);
	CHECK_EQ(cfg.outside.static_neigh[1].mac.addr_bytes[5], 0x0a);
	CHECK(strcmp(cfg.inside.devargs, "copy=1") == 0);
	CHECK_EQ(cfg.nb_tunnels, 2);
	if (cfg.nb_tunnels == 2) {
		struct tunnel *t = cfg.tunnels[0];
		struct gre_tunnel *g = t->priv;

		CHECK_EQ(t->id, 7);
		CHECK(strcmp(t->name, "branch-7") == 0);
		CHECK(t->local == cfg.outside.addr);
		CHECK_EQ(t->nb_routes, 3); /* a list key may repeat */
		CHECK_EQ(t->routes[1].depth, 24);
		CHECK_EQ(t->mtu, 1500 - 20 - 12); /* GRE with key and sequence */
		CHECK_EQ(cfg.tunnels[1]->mtu, 1500 - 20 - 8); /* GRE with a key */
		CHECK(g->has_ikey && g->has_okey && g->ikey == RTE_BE32(42) && g->seq && !g->csum);
		CHECK_EQ(t->nb_paths, 1);
		CHECK_EQ(t->reorder_mode, TUNNEL_REORDER_ON);
		CHECK_EQ(t->reorder_conf.size, 2048);
		CHECK_EQ(t->reorder_conf.hold_us, 333000);
		CHECK_EQ(cfg.tunnels[1]->reorder_mode, TUNNEL_REORDER_NONE);
		CHECK(t->qos == NULL); /* unshaped by default */
		CHECK_EQ(t->dscp, 0);
		g = cfg.tunnels[1]->priv;
		CHECK(!g->has_ikey && g->has_okey && g->okey == RTE_BE32(9));
	}
	config_free(&cfg);
}

/* Replaces the first occurrence of from in good with to, expects failure mentioning want. */
static void
expect_error(const char *from, const char *to, const char *want)
{
	struct dpvpn_config cfg;
	char text[4096], prefix[128];
	const char *at = strstr(good, from);

	if (at == NULL) {
		CHECK(at != NULL);
		return;
	}
	snprintf(text, sizeof(text), "%.*s%s%s", (int)(at - good), good, to, at + strlen(from));
	snprintf(prefix, sizeof(prefix), "%s:", path);
	CHECK(load(text, &cfg) < 0);
	if (strstr(errbuf, want) == NULL || strncmp(errbuf, prefix, strlen(prefix)) != 0) {
		fprintf(stderr, "expected '%s' in: %s", want, errbuf);
		CHECK(!"error message");
	} else {
		CHECK(1);
	}
}

/* Global QoS defaults apply to every tunnel; a tunnel's own keys win. */
static void
test_qos(void)
{
	struct dpvpn_config cfg;
	char text[4096];
	const char *at = strstr(good, "[outside]");

	snprintf(text, sizeof(text), "%.*sshaper_rate = 1.5gbit\nfq_codel_limit = 2000\ndscp = inherit\n%s"
		 "shaper_rate = 20mbit\nqos = fifo\nshaper_overhead = 8\ndscp = 46\n",
		 (int)(at - good), good, at);
	CHECK(load(text, &cfg) == 0);
	if (cfg.nb_tunnels == 2) {
		const struct tunnel *a = cfg.tunnels[0], *b = cfg.tunnels[1];

		CHECK(a->qos != NULL && b->qos != NULL);
		if (a->qos != NULL && b->qos != NULL) {
			CHECK_EQ(a->qos->conf.rate_bps, 1500000000ull);
			CHECK_EQ(a->qos->conf.limit, 2000);
			CHECK(!a->qos->conf.fifo && a->qos->conf.ecn);
			CHECK_EQ(a->qos->conf.flows, 1024);
			CHECK_EQ(b->qos->conf.rate_bps, 20000000);
			CHECK(b->qos->conf.fifo);
			CHECK_EQ(b->qos->conf.overhead, 8);
			CHECK_EQ(b->qos->conf.limit, 2000);
		}
		CHECK_EQ(a->dscp, PKT_DSCP_INHERIT);
		CHECK_EQ(b->dscp, 46);
	}
	config_free(&cfg);
}

/* [pptp]: the client's window mode and the sessions' QoS come from the section. */
static void
test_pptp(void)
{
	struct dpvpn_config cfg;
	char text[2048];

	snprintf(text, sizeof(text), "%s[pptp]\nwindow = 64\n", good);
	CHECK_EQ(load(text, &cfg), 0);
	CHECK(!cfg.pptp.peer_window_enforce);
	CHECK_EQ(cfg.pptp.peer_window_timeout_ms, 250);
	CHECK(cfg.pptp.template.qos == NULL);
	config_free(&cfg);
	snprintf(text, sizeof(text), "%s[pptp]\npeer_window = enforce\npeer_window_timeout_ms = 100\n"
		 "shaper_rate = 10mbit\nfq_codel_limit = 300\n", good);
	CHECK_EQ(load(text, &cfg), 0);
	CHECK(cfg.pptp.peer_window_enforce);
	CHECK_EQ(cfg.pptp.peer_window_timeout_ms, 100);
	CHECK(cfg.pptp.template.qos != NULL);
	if (cfg.pptp.template.qos != NULL) {
		CHECK_EQ(cfg.pptp.template.qos->conf.rate_bps, 10000000ull);
		CHECK_EQ(cfg.pptp.template.qos->conf.limit, 300);
	}
	config_free(&cfg);
	/* Line 27 is the first key after [pptp]. */
	snprintf(text, sizeof(text), "%s[pptp]\npeer_window = maybe\n", good);
	CHECK_EQ(load(text, &cfg), -1);
	CHECK(strstr(errbuf, ":27: [pptp] peer_window: 'maybe' is not one of: count, enforce") != NULL);
	snprintf(text, sizeof(text), "%s[pptp]\npeer_window_timeout_ms = 5\n", good);
	CHECK_EQ(load(text, &cfg), -1);
	CHECK(strstr(errbuf, ":27: [pptp] peer_window_timeout_ms: 5 is outside") != NULL);
}

static void
test_errors(void)
{
	/* Line numbers: the good text has "mbufs" on line 3, "peer" of tunnel 7 on line 17. */
	expect_error("mbufs = 4095", "mbufs = lots", ":3: [dpvpn] mbufs: 'lots' is not an unsigned integer");
	expect_error("mbufs = 4095", "mbufs = 12", ":3: [dpvpn] mbufs: 12 is outside");
	expect_error("idle_sleep_us = 10", "idle_sleeps = 10", ":4: [dpvpn] idle_sleeps: unknown key");
	expect_error("address = 192.0.2.1/24", "address = 192.0.2.1", ":7: [outside] address: '192.0.2.1' is not ADDRESS/PREFIX");
	expect_error("gateway = 192.0.2.254", "gateway = 192.0.3.254", ":8: [outside] gateway: not inside");
	expect_error("192.0.2.9 02:00:00:00:00:09", "192.0.2.9 02:00:00:00:09", ":9: [outside] static_neighbors:");
	expect_error("device = net_null1\n", "", "[inside] device: missing");
	expect_error("peer = 198.51.100.7", "peer = 198.51.100.700", ":17: [tunnel 7] peer: '198.51.100.700' is not an IPv4 address");
	expect_error("peer = 198.51.100.7", "peer = 224.0.0.1", ":17: [tunnel 7] peer: 224.0.0.1 is not a unicast address");
	/* The outside fast path counts on it: a packet from our own address finds no tunnel. */
	expect_error("peer = 198.51.100.7", "peer = 192.0.2.1", ":17: [tunnel 7] peer: 192.0.2.1 is one of our own addresses");
	expect_error("peer = 198.51.100.7", "peer = 10.0.0.1", ":17: [tunnel 7] peer: 10.0.0.1 is one of our own addresses");
	expect_error("key = 42", "key = 4294967296", ":18: [tunnel 7] key: 4294967296 is outside");
	expect_error("sequence = yes", "sequence = maybe", ":19: [tunnel 7] sequence: 'maybe' is not a boolean");
	expect_error("routes = 10.7.0.0/16", "routes = 10.7.0.1/16", ":20: [tunnel 7] routes: '10.7.0.1/16' is not a prefix");
	expect_error("protocol = gre\nname", "protocol = ipip\nname", ":15: [tunnel 7] protocol: unknown protocol 'ipip'");
	expect_error("[tunnel 8]", "[tunnel eight]", "[tunnel eight] section name must be 'tunnel ID'");
	expect_error("[tunnel 8]", "[tunnel 7]", "[tunnel 7] duplicate tunnel id");
	expect_error("[tunnel 8]", "[tunel 8]", "[tunel 8] unknown section");
	expect_error("peer = 198.51.100.8", "peer = 198.51.100.7\nkey = 42", "same peer");
	/* Multi-path keys. */
	expect_error("peer = 198.51.100.7", "peer = 198.51.100.7, 198.51.100.7", "198.51.100.7 is listed twice");
	expect_error("peer = 198.51.100.7", "peer = 1.1.1.1, 1.1.1.2, 1.1.1.3, 1.1.1.4, 1.1.1.5", "more than 4 paths");
	expect_error("okey = 9", "okey = 9\nweights = 1", ":26: [tunnel 8] weights: only with path_mode = weighted");
	expect_error("okey = 9", "okey = 9\npath_mode = random", "[tunnel 8] path_mode: 'random' is not redundant or weighted");
	expect_error("peer = 198.51.100.8", "peer = 198.51.100.8, 198.51.100.9\npath_mode = weighted\nweights = 1",
		     "1 weights for 2 peers");
	expect_error("sequence = yes", "sequence = no\nreorder = on", "[tunnel 7] reorder: needs sequence numbers");
	expect_error("sequence = yes", "sequence = yes\nreorder_window = 100", "reorder_window: 100 is not a power of two");
	expect_error("address = 10.0.0.1/24", "address = 192.0.2.5/24", "[inside] address: overlaps");
	/* QoS and DSCP keys. */
	expect_error("okey = 9", "okey = 9\nshaper_rate = 20zbit", ":26: [tunnel 8] shaper_rate: '20zbit' is not a rate");
	expect_error("okey = 9", "okey = 9\nshaper_rate = 1kbit", "shaper_rate: '1kbit' is not a rate between 8kbit");
	expect_error("okey = 9", "okey = 9\nqos = red", "[tunnel 8] qos: 'red' is not fq_codel or fifo");
	expect_error("okey = 9", "okey = 9\nfq_codel_flows = 1000", "fq_codel_flows: 1000 is not a power of two");
	expect_error("okey = 9", "okey = 9\nfq_codel_target_us = 200000", "fq_codel_target_us: must be below");
	expect_error("okey = 9", "okey = 9\ndscp = 64", ":26: [tunnel 8] dscp: 64 is outside");
	expect_error("idle_sleep_us = 10", "idle_sleep_us = 10\nfq_codel_ecn = perhaps", ":5: [dpvpn] fq_codel_ecn: 'perhaps'");
	{
		char longline[400];

		memset(longline, 'x', sizeof(longline));
		memcpy(longline, "name = ", 7);
		longline[sizeof(longline) - 1] = '\0';
		expect_error("name = branch-7", longline, ":16: line longer than 255 characters");
	}
	expect_error("[dpvpn]", "[dpvpn", ":2: syntax error: '[' without ']'");
	expect_error("mbufs = 4095", "mbufs 4095", ":3: syntax error: expected 'key = value'");
	expect_error("# a comment\n", "orphan = 1\n", ":1: syntax error: key before any [section]");
}

int
main(void)
{
	struct dpvpn_config cfg;

	snprintf(path, sizeof(path), "/tmp/dpvpn-test-config-%d.ini", (int)getpid());
	test_good();
	test_qos();
	test_pptp();
	test_errors();
	unlink(path);
	CHECK(config_load("/nonexistent/dpvpn.ini", &cfg) < 0);
	return check_summary("config");
}
