#!/usr/bin/env bash
# Boot the kernel-peer VM (Debian's kernel, busybox initramfs; see build-image.sh) under qemu TCG,
# run one workload script inside it and return that script's exit code.
#
# Usage: tests/interop/vm/run-vm.sh --guest-script FILE [options]
#   --guest-script FILE  shell script run in the guest as `sh /guest.sh` after boot (required)
#   --tap NAME           first NIC (guest eth0): qemu creates host tap NAME (virtio-net-pci)
#   --mac MAC            eth0's MAC (default 52:54:00:12:34:56)
#   --tap2 NAME          second NIC (guest eth1), e.g. for dual-line tests
#   --mac2 MAC           eth1's MAC (default 52:54:00:12:34:57)
#   --netns NS           run qemu inside network namespace NS, so the taps appear there
#                        (default: the root namespace)
#   --on-tap-up CMD      once the taps exist, are up and have IPv6 disabled, run `bash -c CMD`
#                        (inside NS when --netns is given) with TAP, TAP2, NETNS in the environment.
#                        It must return (bounded to 120 s): start long-running helpers in the
#                        background yourself. If it fails, qemu is killed and run-vm exits 125.
#   --file SRC:DST       copy host file/dir SRC to DST (absolute) in the guest; repeatable
#   --env KEY=VALUE      exported in the guest before /guest.sh runs; repeatable
#   --timeout SECONDS    hard bound on qemu's life (default 300); on expiry exit 124
#   --log FILE           write the serial console there (default: a temp file, removed)
#   --mem MB             guest memory (default 768)
#   --smp N              guest CPUs (default 1)
#   --offload            keep virtio-net checksum/TSO offloads (vnet_hdr) on the taps; faster for
#                        kernel-to-kernel traffic, but then the host side sees up to 64 KiB GSO
#                        frames with partial checksums, which af_packet readers (DPDK) must not get.
#                        Default: offloads off, so every frame on the tap is a real wire frame.
#   --append ARGS        extra kernel command line arguments
#   --cache DIR          image directory (default: $DPVPN_VM_CACHE, else <repo>/.vm-cache);
#                        the image is built or refreshed there first (cached, see build-image.sh)
#   --quiet              do not copy the guest console to stdout while it runs
#
# Exit status: the guest script's exit code (from the DPVPN-GUEST-EXIT=<rc> console marker),
# 124 when --timeout expired, 125 when qemu ended without the marker or setup failed, 2 on bad
# usage. qemu, the console follower and temp files are cleaned up on every exit and on signals.
#
# Guest view: NICs are eth0 (--tap) and eth1 (--tap2), down and unconfigured; use /usr/sbin/ip
# (iproute2) and tc there. Guest output reaches the console, hence the log and stdout.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$SCRIPT_DIR/../../.." && pwd)

log() { echo "run-vm: $*" >&2; }
usage_error() { echo "run-vm: $*" >&2; echo "run-vm: see --help" >&2; exit 2; }
# Setup failures exit 125, the same code as "qemu gave no verdict": either way there is no result.
fail() { echo "run-vm: error: $*" >&2; exit 125; }

TAP="" TAP2="" MAC=52:54:00:12:34:56 MAC2=52:54:00:12:34:57 NETNS="" GUEST_SCRIPT=""
TIMEOUT=300 LOG="" MEM=768 SMP=1 OFFLOAD=0 APPEND="" HOOK="" QUIET=0
CACHE_DIR=${DPVPN_VM_CACHE:-$REPO_DIR/.vm-cache}
FILES=() ENVS=()

need_arg() { [[ $# -ge 2 && -n "$2" ]] || usage_error "option $1 needs a value"; }
while (($#)); do
    case "$1" in
        --tap) need_arg "$@"; TAP=$2; shift ;;
        --tap2) need_arg "$@"; TAP2=$2; shift ;;
        --mac) need_arg "$@"; MAC=$2; shift ;;
        --mac2) need_arg "$@"; MAC2=$2; shift ;;
        --netns) need_arg "$@"; NETNS=$2; shift ;;
        --guest-script) need_arg "$@"; GUEST_SCRIPT=$2; shift ;;
        --file) need_arg "$@"; FILES+=("$2"); shift ;;
        --env) need_arg "$@"; ENVS+=("$2"); shift ;;
        --timeout) need_arg "$@"; TIMEOUT=$2; shift ;;
        --log) need_arg "$@"; LOG=$2; shift ;;
        --mem) need_arg "$@"; MEM=$2; shift ;;
        --smp) need_arg "$@"; SMP=$2; shift ;;
        --on-tap-up) need_arg "$@"; HOOK=$2; shift ;;
        --append) need_arg "$@"; APPEND=$2; shift ;;
        --cache) need_arg "$@"; CACHE_DIR=$2; shift ;;
        --offload) OFFLOAD=1 ;;
        --quiet) QUIET=1 ;;
        -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) usage_error "unknown argument '$1'" ;;
    esac
    shift
done

# --- Validate ---------------------------------------------------------------------------------
[[ -n "$GUEST_SCRIPT" ]] || usage_error "--guest-script FILE is required"
[[ -f "$GUEST_SCRIPT" ]] || usage_error "guest script '$GUEST_SCRIPT' does not exist"
[[ "$TIMEOUT" =~ ^[1-9][0-9]*$ ]] || usage_error "--timeout wants whole seconds, got '$TIMEOUT'"
[[ "$MEM" =~ ^[1-9][0-9]*$ ]] || usage_error "--mem wants megabytes, got '$MEM'"
[[ "$SMP" =~ ^[1-9][0-9]*$ ]] || usage_error "--smp wants a CPU count, got '$SMP'"
mac_re='^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$'
[[ "$MAC" =~ $mac_re ]] || usage_error "bad --mac '$MAC'"
[[ "$MAC2" =~ $mac_re ]] || usage_error "bad --mac2 '$MAC2'"
for t in "$TAP" "$TAP2"; do
    [[ -z "$t" || "$t" =~ ^[A-Za-z0-9_-]{1,15}$ ]] || usage_error "bad interface name '$t' (1-15 of [A-Za-z0-9_-])"
done
[[ -z "$TAP2" || -n "$TAP" ]] || usage_error "--tap2 needs --tap"
[[ -z "$TAP2" || "$TAP2" != "$TAP" ]] || usage_error "--tap and --tap2 must differ"
[[ -z "$HOOK" || -n "$TAP" ]] || usage_error "--on-tap-up needs --tap"
for e in "${ENVS[@]}"; do
    [[ "$e" =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] || usage_error "bad --env '$e' (want KEY=VALUE)"
done
if [[ -n "$TAP$NETNS" && $EUID -ne 0 ]]; then
    fail "creating taps and entering namespaces needs root"
fi
if [[ -n "$NETNS" ]]; then
    ip netns exec "$NETNS" true 2>/dev/null || fail "network namespace '$NETNS' does not exist"
fi

# Serial console text without CRs and the firmware's terminal escapes (clear screen, cursor).
clean_console() { sed -u 's/\r$//; s/\x1b\[[0-9;?]*[A-Za-z]//g; s/\x1bc//g'; }

# --- Cleanup ------------------------------------------------------------------------------------
TMP=$(mktemp -d "${TMPDIR:-/tmp}/dpvpn-vm.XXXXXX")
QPID="" TAILPID=""

# True while PID runs. Not `kill -0`: that also succeeds for an exited child not yet reaped.
alive() { [[ -r /proc/$1/stat ]] && [[ "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" != Z ]]; }

# shellcheck disable=SC2317  # reached from the EXIT trap, which shellcheck cannot follow
stop_qemu() {
    [[ -n "$QPID" ]] || return 0
    if alive "$QPID"; then
        # QPID is `timeout`, which leads its own process group with qemu in it: signal the group.
        kill -TERM -- "-$QPID" 2>/dev/null || kill -TERM "$QPID" 2>/dev/null || true
        for _ in $(seq 50); do alive "$QPID" || break; sleep 0.1; done
        if alive "$QPID"; then
            kill -KILL -- "-$QPID" 2>/dev/null || kill -KILL "$QPID" 2>/dev/null || true
        fi
    fi
    wait "$QPID" 2>/dev/null || true
    QPID=""
}

# shellcheck disable=SC2317
cleanup() {
    stop_qemu
    if [[ -n "$TAILPID" ]]; then wait "$TAILPID" 2>/dev/null || true; fi
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# --- Image and per-run initramfs ---------------------------------------------------------------
"$SCRIPT_DIR/build-image.sh" "$CACHE_DIR" || fail "building the VM image failed"
command -v qemu-system-x86_64 >/dev/null || fail "qemu-system-x86_64 is missing (build-image.sh installs it as root)"

# The guest has a merged /usr: /bin, /sbin and /lib are symlinks into /usr. Writing through them
# from a second cpio works, but naming the real directory keeps the archive unambiguous.
guest_path() {
    case "$1" in
        /bin/*|/sbin/*|/lib/*|/lib64/*) echo "/usr$1" ;;
        *) echo "$1" ;;
    esac
}

EXTRA="$TMP/extra"
mkdir -p "$EXTRA/etc"
install -m 755 "$GUEST_SCRIPT" "$EXTRA/guest.sh"
for f in "${FILES[@]}"; do
    [[ "$f" == *:* ]] || usage_error "--file wants SRC:DST, got '$f'"
    src=${f%%:*} dst=${f#*:}
    [[ -e "$src" ]] || usage_error "--file source '$src' does not exist"
    [[ "$dst" == /* ]] || usage_error "--file destination '$dst' must be absolute"
    dst=$(guest_path "$dst")
    mkdir -p "$EXTRA$(dirname "$dst")"
    cp -a "$src" "$EXTRA$dst"
done
: >"$EXTRA/etc/guest.env"
for e in "${ENVS[@]}"; do
    # Single-quote the value for the guest's busybox sh.
    val=${e#*=}
    printf "%s='%s'\n" "${e%%=*}" "${val//\'/\'\\\'\'}" >>"$EXTRA/etc/guest.env"
done
# The kernel unpacks concatenated gzip'd cpio archives in order, later ones adding to the first.
(cd "$EXTRA" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -1 >"$TMP/extra.gz"
cat "$CACHE_DIR/initrd.gz" "$TMP/extra.gz" >"$TMP/initrd.gz"

# --- qemu command line ---------------------------------------------------------------------------
QEMU=(qemu-system-x86_64 -accel tcg -m "$MEM" -smp "$SMP" -nographic -monitor none -serial stdio
      -no-reboot -kernel "$CACHE_DIR/vmlinuz" -initrd "$TMP/initrd.gz"
      -append "console=ttyS0 quiet panic=-1${APPEND:+ $APPEND}"
      # Entropy for the guest's getrandom() users (pppd, openssl, wg) without waiting.
      -device virtio-rng-pci)
# vnet_hdr=off makes qemu withdraw the checksum/GSO features from the guest's virtio-net, so the
# tap only ever carries real, fully checksummed, MTU-sized frames (see --offload).
vnet=",vnet_hdr=off"
[[ $OFFLOAD -eq 0 ]] || vnet=""
add_nic() { # id tap mac pci-slot
    QEMU+=(-netdev "tap,id=$1,ifname=$2,script=no,downscript=no$vnet"
           -device "virtio-net-pci,netdev=$1,mac=$3,addr=$4,romfile=")   # no iPXE ROM: faster boot
}
if [[ -n "$TAP" ]]; then
    add_nic n0 "$TAP" "$MAC" 0x4
    [[ -z "$TAP2" ]] || add_nic n1 "$TAP2" "$MAC2" 0x5     # next slot, so it probes as eth1
else
    QEMU+=(-nic none)
fi

NS_EXEC=()
IPCMD=(ip)
if [[ -n "$NETNS" ]]; then
    NS_EXEC=(ip netns exec "$NETNS")
    IPCMD=(ip -n "$NETNS")
fi

if [[ -n "$LOG" ]]; then
    mkdir -p "$(dirname "$LOG")"
    : >"$LOG" || fail "cannot write log file '$LOG'"
else
    LOG="$TMP/console.log"
    : >"$LOG"
fi

# --- Run -------------------------------------------------------------------------------------------
START=$(date +%s.%N)
log "booting $(sed -n '1s/^kernel: //p' "$CACHE_DIR/manifest.txt" 2>/dev/null)" \
    "(taps: ${TAP:-none}${TAP2:+, $TAP2}${NETNS:+, netns $NETNS}; timeout ${TIMEOUT}s)"
# `timeout` bounds qemu even if this script is SIGKILLed; -k escalates if TERM is ignored.
# stdin from /dev/null keeps qemu away from the caller's terminal.
"${NS_EXEC[@]}" timeout -k 5 "$TIMEOUT" "${QEMU[@]}" </dev/null >"$LOG" 2>&1 &
QPID=$!

if [[ $QUIET -eq 0 ]]; then
    # Follow the console until qemu is gone; strip the serial line's CRs and the firmware's
    # terminal escapes, and mark guest lines.
    # tail stops by itself once QPID has exited and been reaped (wait), so no kill is needed.
    { tail -n +1 -s 0.2 -F --pid="$QPID" "$LOG" 2>/dev/null | clean_console | sed -u 's/^/[vm] /'; } &
    TAILPID=$!
fi

if [[ -n "$TAP" ]]; then
    # qemu creates the taps while it starts, before the guest runs; wait for them (bounded).
    for t in "$TAP" ${TAP2:+"$TAP2"}; do
        for ((i = 0; ; i++)); do
            "${IPCMD[@]}" link show dev "$t" >/dev/null 2>&1 && break
            alive "$QPID" || { tail -n 20 "$LOG" | clean_console >&2; fail "qemu exited before creating tap $t"; }
            ((i < 300)) || fail "tap $t did not appear within 30 s"
            sleep 0.1
        done
        # No IPv6 on the tap: otherwise the host sends router solicitations and MLD reports into
        # the guest's (and any af_packet reader's) traffic.
        "${NS_EXEC[@]}" sh -c "[ ! -d /proc/sys/net/ipv6/conf/$t ] || echo 1 >/proc/sys/net/ipv6/conf/$t/disable_ipv6" ||
            fail "cannot disable IPv6 on $t"
        "${IPCMD[@]}" link set dev "$t" up || fail "cannot bring $t up"
    done
    if [[ -n "$HOOK" ]]; then
        TAP=$TAP TAP2=$TAP2 NETNS=$NETNS timeout -k 5 120 "${NS_EXEC[@]}" bash -c "$HOOK" ||
            fail "--on-tap-up command failed (status $?)"
    fi
fi

qrc=0
wait "$QPID" || qrc=$?
QPID=""
if [[ -n "$TAILPID" ]]; then wait "$TAILPID" 2>/dev/null || true; TAILPID=""; fi
ELAPSED=$(echo "$START $(date +%s.%N)" | awk '{ printf "%.1f", $2 - $1 }')

if [[ $qrc -eq 124 || $qrc -eq 137 ]]; then
    log "timed out after ${TIMEOUT} s; qemu killed. Last console lines:"
    tail -n 20 "$LOG" | clean_console >&2
    exit 124
fi
marker=$(tr -d '\r' <"$LOG" | grep -ao 'DPVPN-GUEST-EXIT=[0-9]*' | tail -n 1 || true)
if [[ -z "$marker" ]]; then
    log "qemu exited (status $qrc) after ${ELAPSED} s without a DPVPN-GUEST-EXIT marker. Last console lines:"
    tail -n 20 "$LOG" | clean_console >&2
    exit 125
fi
rc=${marker#DPVPN-GUEST-EXIT=}
log "guest script exited $rc; VM ran ${ELAPSED} s"
exit "$rc"
