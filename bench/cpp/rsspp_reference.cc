// Times the reference RSS++ decision (MethodRSSPP::rebalance, as DeviceBalancer
// calls it every tick) on the loads and counts bench_decision.py recorded.
//
// Built by bench/reference_cpp.py against a configured checkout of
// rsspp/fastclick: the method's own source is compiled unchanged; this file
// gives it what the rest of FastClick would (the scheduler, the RSS base
// class without DPDK, click_chatter). Counts are handed over as the XDP
// counter's reading does, before the decision's clock starts.
//
// Usage: rsspp_reference replay|step TARGET_LOAD IMBALANCE_ALPHA IMBALANCE_THRESHOLD
// (DeviceBalancer's keywords of the same names). Input on stdin, native byte
// order; a tick is the cores' loads (cores x float64) then the buckets'
// packet counts (reta x uint64).
// - replay: int32 reta, cores, ticks, replays, the initial table (reta x
//   int32), then every tick. Prints one line per replay with each tick's
//   decision time in nanoseconds, then one line with the buckets each tick
//   moved.
// - step: int32 reta, cores, the initial table, then ticks as they come;
//   answers each with the table it leaves (reta x int32).
#include <click/config.h>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>

// Named by the migration hooks, which the harness never sets.
struct DPDKEthernetDevice;
// Declares DPDK's packet buffer, which AggregateCounterVector's header reads.
#include <rte_ethdev.h>

#include "vendor/nicscheduler/nicscheduler.hh"
#include "vendor/nicscheduler/methods/rsspp.cc"

int click_nthreads = 1;

// Click's clock without warping (no simulated time here). The decision keeps
// jiffies of the last movements but never compares them: any count will do.
Timestamp::warp_class_type TimestampWarp::kind = Timestamp::warp_none;
void Timestamp::warp(bool, bool) {}
click_jiffies_t click_timestamp_jiffies(void *) { return 0; }

void click_chatter(const char *fmt, ...) {
    va_list val;
    va_start(val, fmt);
    vfprintf(stderr, fmt, val);
    va_end(val);
    fputc('\n', stderr);
}

// The scheduler and base classes as FastClick defines them, minus DPDK.
NICScheduler::NICScheduler() : _manager(0), _active(true), _autoscale(false), _verbose(0) {}
NICScheduler::~NICScheduler() {}
int NICScheduler::popAvailableCore() { return -1; }
int NICScheduler::addCore() { return -1; }
void NICScheduler::removeCore(int) {}
int BalanceMethod::initialize(ErrorHandler *, int) { return 0; }
void BalanceMethod::cpu_changed() {}
BalanceMethodDevice::BalanceMethodDevice(NICScheduler *b, EthernetDevice *fd)
    : BalanceMethod(b), _fd(fd), _is_dpdk(false) {}
// The flow-rule settings of the base class serve DPDK only; the decision reads none.
MethodRSS::MethodRSS(NICScheduler *b, EthernetDevice *fd)
    : BalanceMethodDevice(b, fd), _isolate(false), _use_group(false), _use_mark(false),
      _epoch(0) {}
MethodRSS::~MethodRSS() {}
int MethodRSS::initialize(ErrorHandler *, int) { return 0; }
void MethodRSS::rebalance(std::vector<std::pair<int, float>>) {}
void MethodRSS::cpu_changed() {}
bool MethodRSS::update_reta_flow(bool) { return true; }
// Without DPDK the table goes to the device through its setter.
bool MethodRSS::update_reta(bool) {
    return _fd->set_rss_reta(_fd, _table.data(), _table.size()) == 0;
}
// As MethodMetron's file defines it: per-CPU history, cleared.
int LoadTracker::load_tracker_initialize(ErrorHandler *) {
    _past_load.assign(click_max_cpu_ids(), 0);
    _moved.assign(click_max_cpu_ids(), false);
    _last_movement.assign(click_max_cpu_ids(), click_jiffies());
    return 0;
}

namespace {

// The device takes every table it is given.
int set_reta(EthernetDevice *, unsigned *, unsigned) { return 0; }

// With room for the statistics of the solver's runs, as DeviceBalancer makes it.
struct Scheduler : NICScheduler {
    Scheduler() { _stats.resize(10); }
    CpuInfo make_info(int id) override { return CpuInfo{id, 0}; }
};

// The method with its per-CPU history started, as its initialize does.
struct Method : MethodRSSPP {
    Method(NICScheduler *b, EthernetDevice *fd) : MethodRSSPP(b, fd) {
        load_tracker_initialize(nullptr);
    }
};

template <typename T> bool read_some(T *into, size_t n) {
    return fread(into, sizeof(T), n, stdin) == n;
}

template <typename T> void read_all(T *into, size_t n) {
    if (!read_some(into, n)) {
        fprintf(stderr, "rsspp_reference: input ends early\n");
        exit(2);
    }
}

long long now_ns() {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

// One method on its own device, configured as DeviceBalancer configures it
// with an XDP counter (whose reading fills the counts).
struct Decider {
    Scheduler scheduler;
    EthernetDevice device;
    Method method;
    int cores;

    Decider(const std::vector<int> &initial, int ncores, char **params)
        : device(with_setters()), method(&scheduler, &device), cores(ncores) {
        method._reta_size = initial.size();
        method._table.assign(initial.begin(), initial.end());
        method._target_load = atof(params[0]);
        method._imbalance_alpha = atof(params[1]);
        method._threshold = atof(params[2]);
        method._dancer = false;
        method._numa = false;
        method._numa_num = 1;
        method._counter = nullptr;
        method._counter_is_xdp = true;
        method._count.assign(initial.size(), MethodRSSPP::Node{0, 0, false});
    }

    static EthernetDevice with_setters() {
        EthernetDevice d;
        d.set_rss_reta = set_reta;
        return d;
    }

    // The decision's time in nanoseconds; the counts are read (and their
    // variance updated, as the XDP reading does) before the clock starts.
    long long decide(const double *loads, const unsigned long long *counts) {
        for (size_t j = 0; j < method._count.size(); j++) {
            MethodRSSPP::Node &node = method._count[j];
            node.count = counts[j];
            node.variance = node.variance / 3 + 2 * node.count / 3;
        }
        std::vector<std::pair<int, float>> rload(cores);
        for (int k = 0; k < cores; k++)
            rload[k] = std::make_pair(k, (float)loads[k]);
        long long began = now_ns();
        method.rebalance(rload);
        return now_ns() - began;
    }
};

// Replays recorded ticks, timing each decision.
int replay(char **params) {
    int head[4];
    read_all(head, 4);
    const int reta = head[0], cores = head[1], ticks = head[2], replays = head[3];
    std::vector<int> initial(reta);
    read_all(initial.data(), reta);
    std::vector<double> loads((size_t)ticks * cores);
    std::vector<unsigned long long> counts((size_t)ticks * reta);
    for (int t = 0; t < ticks; t++) {
        read_all(&loads[(size_t)t * cores], cores);
        read_all(&counts[(size_t)t * reta], reta);
    }
    click_nthreads = cores;
    std::vector<int> moved(ticks);
    for (int r = 0; r < replays; r++) {
        Decider decider(initial, cores, params);
        for (int t = 0; t < ticks; t++) {
            std::vector<unsigned> before = decider.method._table;
            long long took = decider.decide(&loads[(size_t)t * cores], &counts[(size_t)t * reta]);
            printf("%s%lld", t ? " " : "", took);
            int n = 0;
            for (int j = 0; j < reta; j++)
                n += before[j] != decider.method._table[j];
            moved[t] = n;
        }
        printf("\n");
    }
    for (int t = 0; t < ticks; t++)
        printf("%s%d", t ? " " : "", moved[t]);
    printf("\n");
    return 0;
}

// Decides tick by tick as the input arrives, answering each with the table.
int step(char **params) {
    int head[2];
    read_all(head, 2);
    const int reta = head[0], cores = head[1];
    std::vector<int> initial(reta);
    read_all(initial.data(), reta);
    click_nthreads = cores;
    Decider decider(initial, cores, params);
    std::vector<double> loads(cores);
    std::vector<unsigned long long> counts(reta);
    std::vector<int> table(reta);
    while (read_some(loads.data(), cores)) {
        read_all(counts.data(), reta);
        decider.decide(loads.data(), counts.data());
        for (int j = 0; j < reta; j++)
            table[j] = decider.method._table[j];
        fwrite(table.data(), sizeof(int), reta, stdout);
        fflush(stdout);
    }
    return 0;
}

}  // namespace

int main(int argc, char **argv) {
    const std::string mode = argc == 5 ? argv[1] : "";
    if (mode != "replay" && mode != "step") {
        fprintf(stderr, "usage: rsspp_reference replay|step TARGET_LOAD IMBALANCE_ALPHA "
                        "IMBALANCE_THRESHOLD\n");
        return 2;
    }
    return mode == "replay" ? replay(argv + 2) : step(argv + 2);
}
