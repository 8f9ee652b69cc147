/* What the reference's headers name of DPDK's ethdev when built without DPDK:
 * the types of members that the RSS base class keeps (never used here). */
#ifndef BENCH_WITHOUT_DPDK_RTE_ETHDEV_H
#define BENCH_WITHOUT_DPDK_RTE_ETHDEV_H
#include <stdint.h>

struct rte_eth_rss_conf {
    uint8_t *rss_key;
    uint8_t rss_key_len;
    uint64_t rss_hf;
};

/* Read by an inline function of AggregateCounterVector that the harness never calls. */
struct rte_mbuf {
    uint64_t ol_flags;
    struct { struct { uint32_t lo, hi; } fdir; } hash;
};
#define PKT_RX_FDIR_ID (1ULL << 13)
#endif
