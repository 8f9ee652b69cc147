// RSS++ on a real interface: the configuration of the original RSS++ README.
// Run as root:   pyclick conf/rsspp.click IF=eth0
// The XDP object path is resolved by file name to the program's source
// shipped with pyclick, pyclick/bpf/ (see `pyclick --doc XDPLoader`).
define ($IF eth0,
        $CPU 18,
        $RETA 128,
        $VERBOSE 0,
        $TIMER 10,
        $BPF_XDP_COUNT "conf/bpf/xdp_count.o");

fd :: FromDevice($IF, ACTIVE false) -> Discard;

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

xdp :: XDPLoader(PATH $BPF_XDP_COUNT, DEV $IF, CLEAN false);
