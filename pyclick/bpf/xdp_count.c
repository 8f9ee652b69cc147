/* RSS bucket counting (and, compiled with RSS_REDIRECT, software RSS) in XDP.
 *
 * Every IPv4/IPv6 packet is hashed with the Toeplitz function over the same
 * fields an RSS NIC uses: source and destination address, then source and
 * destination port for TCP and UDP (non-first fragments and other protocols
 * hash the addresses only). Bucket = hash % RETA_SIZE. Non-IP packets, which
 * a NIC does not hash either, are passed on untouched and not counted.
 *
 * The Toeplitz function is table-driven: toeplitz_map holds, for every input
 * byte position and byte value, that byte's 32-bit contribution to the hash
 * under the device's key, so the hash is one XOR per input byte. User space
 * fills the table from the key (pyclick.kernel.rss_program.toeplitz_table).
 *
 * Compile-time parameters (passed as -D by pyclick.kernel.rss_program):
 *   RETA_SIZE      number of buckets (entries of count_map)
 *   RSS_REDIRECT   also steer each packet to the CPU reta_map names for its
 *                  bucket, through the CPUMAP cpu_map
 *   MAX_CPUS       entries of cpu_map (RSS_REDIRECT only)
 *
 * pyclick compiles this file with bcc when the router starts. The same file
 * also builds into a BPF object that XDPLoader loads as it is (through
 * libbpf), with nothing but clang and the kernel's UAPI headers:
 *
 *   clang -O2 -g -target bpf -I/usr/include/$(clang -print-multiarch) \
 *         -c pyclick/bpf/xdp_count.c -o conf/bpf/xdp_count.o
 *
 * Map access therefore goes through the small functions below, which use
 * bcc's table methods under bcc (it declares BPF_TABLE) and the helper
 * calls of plain C otherwise.
 *
 * Maps:
 *   count_map     per-CPU u64[RETA_SIZE], packets seen per bucket
 *   toeplitz_map  one entry, the hash table described above
 *   reta_map      u32[RETA_SIZE], CPU per bucket              (RSS_REDIRECT)
 *   cpu_map       CPUMAP, one entry per CPU in use            (RSS_REDIRECT)
 *   landed_map    per-CPU u64[RETA_SIZE], packets per bucket counted on
 *                 the CPU they were steered to                (RSS_REDIRECT)
 */
#ifdef BPF_TABLE
#include <uapi/linux/bpf.h>
#include <uapi/linux/if_ether.h>
#include <uapi/linux/in.h>
#include <uapi/linux/ip.h>
#include <uapi/linux/ipv6.h>
#define PROGRAM(section)
#else
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
#undef __always_inline
#define __always_inline inline __attribute__((always_inline))
#define htons(x) ((__be16)__builtin_bswap16(x))
#define SEC(name) __attribute__((section(name), used))
#define PROGRAM(section) SEC(section)
/* Maps as libbpf reads them from BTF: each field's type encodes a value. */
#define MAP_FIELD_VALUE(name, value) int (*name)[value]
#define MAP_FIELD_TYPE(name, type) type *name
#define ARRAY_MAP(map_type, name, value_type, entries)      \
    struct {                                                \
        MAP_FIELD_VALUE(type, map_type);                    \
        MAP_FIELD_TYPE(key, u32);                           \
        MAP_FIELD_TYPE(value, value_type);                  \
        MAP_FIELD_VALUE(max_entries, entries);              \
    } name SEC(".maps")
#define BPF_ARRAY(name, value_type, entries) \
    ARRAY_MAP(BPF_MAP_TYPE_ARRAY, name, value_type, entries)
#define BPF_PERCPU_ARRAY(name, value_type, entries) \
    ARRAY_MAP(BPF_MAP_TYPE_PERCPU_ARRAY, name, value_type, entries)
#define BPF_XDP_REDIRECT_MAP(kind, value_type, name, entries) \
    ARRAY_MAP(BPF_MAP_TYPE_CPUMAP, name, value_type, entries)
static void *(*bpf_map_lookup_elem)(void *map, const void *key) =
    (void *)BPF_FUNC_map_lookup_elem;
static long (*bpf_redirect_map)(void *map, __u64 key, __u64 flags) =
    (void *)BPF_FUNC_redirect_map;
static long (*bpf_xdp_adjust_meta)(struct xdp_md *ctx, int delta) =
    (void *)BPF_FUNC_xdp_adjust_meta;
char _license[] SEC("license") = "GPL";
#endif

#ifndef RETA_SIZE
#define RETA_SIZE 512
#endif

/* Longest hash input: two IPv6 addresses and two ports. */
#define HASH_INPUT_MAX 36
#define ADDR4_BYTES 8
#define ADDR6_BYTES 32
#define PORT_BYTES 4

#define IP_MF 0x2000
#define IP_OFFSET 0x1FFF

struct vlan_hdr {
    __be16 tci;
    __be16 encapsulated_proto;
};

struct toeplitz_table {
    u32 contribution[HASH_INPUT_MAX][256];
};

BPF_PERCPU_ARRAY(count_map, u64, RETA_SIZE);
BPF_ARRAY(toeplitz_map, struct toeplitz_table, 1);

static __always_inline u64 *count_slot(u32 *bucket)
{
#ifdef BPF_TABLE
    return count_map.lookup(bucket);
#else
    return bpf_map_lookup_elem(&count_map, bucket);
#endif
}

static __always_inline const struct toeplitz_table *toeplitz(void)
{
    u32 zero = 0;
#ifdef BPF_TABLE
    return toeplitz_map.lookup(&zero);
#else
    return bpf_map_lookup_elem(&toeplitz_map, &zero);
#endif
}

/* XOR of the contributions of `count` input bytes starting at position
 * `first`; `count` and `first` are constants at every call so the loop
 * unrolls, and the caller has bounds-checked the bytes. */
static __always_inline u32 hash_bytes(const struct toeplitz_table *t, u32 hash,
                                      const u8 *bytes, const int first,
                                      const int count)
{
#pragma unroll
    for (int i = 0; i < count; i++)
        hash ^= t->contribution[first + i][bytes[i]];
    return hash;
}

static __always_inline int has_ports(u8 l4proto)
{
    return l4proto == IPPROTO_TCP || l4proto == IPPROTO_UDP;
}

/* Returns 0 and sets *hash for IP packets, -1 for packets RSS does not hash. */
static __always_inline int rss_hash(struct xdp_md *ctx, u32 *hash)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;

    if ((void *)(eth + 1) > data_end)
        return -1;
    u16 proto = eth->h_proto;
    void *l3 = eth + 1;
    if (proto == htons(ETH_P_8021Q) || proto == htons(ETH_P_8021AD)) {
        struct vlan_hdr *vlan = l3;
        if ((void *)(vlan + 1) > data_end)
            return -1;
        proto = vlan->encapsulated_proto;
        l3 = vlan + 1;
    }

    const struct toeplitz_table *t = toeplitz();
    if (!t)
        return -1;

    if (proto == htons(ETH_P_IP)) {
        struct iphdr *ip = l3;
        if ((void *)(ip + 1) > data_end || ip->ihl < 5)
            return -1;
        u32 h = hash_bytes(t, 0, (const u8 *)&ip->saddr, 0, ADDR4_BYTES);
        const u8 *ports = (const u8 *)ip + ip->ihl * 4;
        if (has_ports(ip->protocol) && !(ip->frag_off & htons(IP_MF | IP_OFFSET)) &&
            (void *)(ports + PORT_BYTES) <= data_end)
            h = hash_bytes(t, h, ports, ADDR4_BYTES, PORT_BYTES);
        *hash = h;
        return 0;
    }
    if (proto == htons(ETH_P_IPV6)) {
        struct ipv6hdr *ip6 = l3;
        if ((void *)(ip6 + 1) > data_end)
            return -1;
        u32 h = hash_bytes(t, 0, (const u8 *)&ip6->saddr, 0, ADDR6_BYTES);
        const u8 *ports = (const u8 *)(ip6 + 1);
        if (has_ports(ip6->nexthdr) && (void *)(ports + PORT_BYTES) <= data_end)
            h = hash_bytes(t, h, ports, ADDR6_BYTES, PORT_BYTES);
        *hash = h;
        return 0;
    }
    return -1;
}

static __always_inline u32 bucket_of(u32 hash)
{
    return hash % RETA_SIZE;
}

#ifndef RSS_REDIRECT

PROGRAM("xdp")
int xdp_count(struct xdp_md *ctx)
{
    u32 hash;
    if (rss_hash(ctx, &hash) == 0) {
        u32 bucket = bucket_of(hash);
        u64 *packets = count_slot(&bucket);
        if (packets)
            *packets += 1;
    }
    return XDP_PASS;
}

#else

#ifndef MAX_CPUS
#define MAX_CPUS 64
#endif

BPF_ARRAY(reta_map, u32, RETA_SIZE);
BPF_XDP_REDIRECT_MAP("cpumap", struct bpf_cpumap_val, cpu_map, MAX_CPUS);
BPF_PERCPU_ARRAY(landed_map, u64, RETA_SIZE);

static __always_inline u32 *table_cpu(u32 *bucket)
{
#ifdef BPF_TABLE
    return reta_map.lookup(bucket);
#else
    return bpf_map_lookup_elem(&reta_map, bucket);
#endif
}

static __always_inline u64 *landed_slot(u32 *bucket)
{
#ifdef BPF_TABLE
    return landed_map.lookup(bucket);
#else
    return bpf_map_lookup_elem(&landed_map, bucket);
#endif
}

static __always_inline int redirect_to(u32 cpu)
{
#ifdef BPF_TABLE
    return cpu_map.redirect_map(cpu, XDP_PASS);
#else
    return bpf_redirect_map(&cpu_map, cpu, XDP_PASS);
#endif
}

/* The bucket travels to the target CPU in the packet's XDP metadata. */
PROGRAM("xdp")
int xdp_count(struct xdp_md *ctx)
{
    u32 hash;
    if (rss_hash(ctx, &hash) != 0)
        return XDP_PASS;
    u32 bucket = bucket_of(hash);
    u64 *packets = count_slot(&bucket);
    if (packets)
        *packets += 1;
    u32 *cpu = table_cpu(&bucket);
    if (!cpu)
        return XDP_PASS;
    if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(u32)) == 0) {
        void *data = (void *)(long)ctx->data;
        u32 *meta = (void *)(long)ctx->data_meta;
        if ((void *)(meta + 1) <= data)
            *meta = bucket;
    }
    /* An absent CPU entry passes the packet up on the receiving CPU. */
    return redirect_to(*cpu);
}

/* Runs on the target CPU, attached to every cpu_map entry. Generic (skb)
 * XDP does not carry metadata across the CPUMAP: the bucket is then
 * computed again. */
PROGRAM("xdp/cpumap")
int xdp_landed(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    u32 *meta = (void *)(long)ctx->data_meta;
    u32 bucket;
    if ((void *)(meta + 1) <= data) {
        bucket = *meta;
    } else {
        u32 hash;
        if (rss_hash(ctx, &hash) != 0)
            return XDP_PASS;
        bucket = bucket_of(hash);
    }
    u64 *packets = landed_slot(&bucket);
    if (packets)
        *packets += 1;
    return XDP_PASS;
}

#endif
