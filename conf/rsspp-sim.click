// RSS++ on a simulated NIC: the configuration of the original RSS++ README
// with SimNIC and SimCounter in place of FromDevice and XDPLoader.
// Runs without root, in simulated time:   pyclick conf/rsspp-sim.click
define ($IF eth0,
        $CPU 18,
        $RETA 128,
        $VERBOSE 0,
        $TIMER 10,
        $BPF_XDP_COUNT "conf/bpf/xdp_count.o");

fd :: SimNIC(CORES $CPU, RETA_SIZE $RETA, DURATION 60) -> Discard;

db :: DeviceBalancer(
    METHOD pianorss,
    DEV fd,
    CPUS $CPU,
    RSSCOUNTER xdp,
    CYCLES realcpu,
    RETA_SIZE $RETA,
    VERBOSE $VERBOSE,
    TARGET_LOAD 0.75,
    TIMER $TIMER,
    TIMER_MAX 1000,
    IMBALANCE_THRESHOLD 0.02,
    AUTOSCALE false);

StaticThreadSched(db 17) //Device balancer will run on the last core

xdp :: SimCounter(DEV fd);
