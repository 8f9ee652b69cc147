/* DPDK's flow rule handle, as the RSS base class names it (never used here). */
#ifndef BENCH_WITHOUT_DPDK_RTE_FLOW_H
#define BENCH_WITHOUT_DPDK_RTE_FLOW_H
struct rte_flow;
#endif
