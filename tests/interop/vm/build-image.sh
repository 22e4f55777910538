#!/usr/bin/env bash
# Build the kernel-peer VM image: Debian's kernel plus a busybox initramfs that carries the real
# peers the interop tests talk to (kernel GRE, netem, pppd + pptp-linux + ppp_mppe, WireGuard, iperf3).
#
# Usage: tests/interop/vm/build-image.sh [--force] [CACHE_DIR]
#   CACHE_DIR  where vmlinuz, initrd.gz, manifest.txt and stamp go
#              (default: $DPVPN_VM_CACHE, else <repo>/.vm-cache, which is gitignored)
#   --force    rebuild even when the stamp says the image is current
#
# Why a VM at all: the host kernel has no GRE/PPP/netem/WireGuard modules, so the peers run under
# qemu (TCG) on Debian's own kernel. Everything comes from Debian's registry with `apt-get download`
# and is unpacked with `dpkg -x`, so nothing on the host's root filesystem is used inside the guest
# except as a last-resort library fallback (reported as a warning).
#
# The build is cached: CACHE_DIR/stamp holds the sha256 of this script (which embeds the guest's
# /init and the module and package lists); when it matches and the images exist the script returns
# at once. A lock file serialises concurrent builds from tests running in parallel.
#
# The guest's /init (see write_init below) mounts proc/sys/dev/devpts/tmp/run, loads every module
# listed in /etc/dpvpn/modules, brings lo up, sets the hostname, sources /etc/guest.env if present,
# runs `sh /guest.sh`, prints `DPVPN-GUEST-EXIT=<rc>` on the console and powers off. run-vm.sh adds
# /guest.sh and extra files as a second cpio archive appended to initrd.gz.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$SCRIPT_DIR/../../.." && pwd)
SCRIPT_PATH="$SCRIPT_DIR/$(basename "${BASH_SOURCE[0]}")"

log() { echo "build-image: $*" >&2; }
die() { echo "build-image: error: $*" >&2; exit 1; }

FORCE=0
CACHE_DIR=""
while (($#)); do
    case "$1" in
        --force) FORCE=1 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$SCRIPT_PATH" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        -*) die "unknown option '$1' (see --help)" ;;
        *) [[ -z "$CACHE_DIR" ]] || die "only one CACHE_DIR may be given"; CACHE_DIR=$1 ;;
    esac
    shift
done
CACHE_DIR=${CACHE_DIR:-${DPVPN_VM_CACHE:-$REPO_DIR/.vm-cache}}

# ---------------------------------------------------------------------------------------------
# What goes into the guest. Changing any of this changes the script's hash, hence the stamp.

# Userland packages. iproute2 because busybox's ip cannot create GRE/WireGuard links with the
# options the tests need; tcpdump and ethtool help when an interop test has to be debugged.
# Debian's dynamically linked `busybox`, not `busybox-static`: the static build's shell prefers
# its own applets over $PATH, so a plain `ip` or `tc` in a guest script would silently run
# busybox's cut-down versions instead of iproute2's. The dynamic one only needs libc.
USER_PACKAGES=(busybox iproute2 iperf3 libiperf0 ppp pptp-linux wireguard-tools tcpdump ethtool)

# Binaries copied into the guest: package path -> guest path (guest has a merged /usr). Paths
# follow Debian's, since tools hard-code them (pptp runs /bin/ip); /usr/sbin/ip is added below.
GUEST_BINARIES=(
    bin/ip:usr/bin/ip
    sbin/tc:usr/sbin/tc
    sbin/bridge:usr/sbin/bridge
    bin/ss:usr/bin/ss
    usr/bin/iperf3:usr/bin/iperf3
    usr/sbin/pppd:usr/sbin/pppd
    usr/sbin/chat:usr/sbin/chat
    usr/sbin/pppstats:usr/sbin/pppstats
    usr/sbin/pptp:usr/sbin/pptp
    usr/bin/wg:usr/bin/wg
    usr/bin/tcpdump:usr/bin/tcpdump
    usr/sbin/tcpdump:usr/bin/tcpdump
    sbin/ethtool:usr/sbin/ethtool
    usr/sbin/ethtool:usr/sbin/ethtool
)

# Kernel modules loaded at boot (dependencies are added from modules.dep). Built-in ones
# (e.g. sch_fq_codel, af_packet in Debian's 6.1) are accepted and simply not copied.
GUEST_MODULES=(
    virtio_pci virtio_net virtio_rng
    gre ip_tunnel ip_gre
    sch_netem sch_fq_codel sch_ingress sch_tbf sch_htb sch_prio
    act_mirred act_gact cls_matchall cls_u32 cls_basic
    slhc ppp_generic ppp_async ppp_synctty ppp_mppe pptp
    wireguard tun veth dummy ifb
)

GUEST_HOSTNAME=dpvpn-peer
MULTIARCH=x86_64-linux-gnu

# ---------------------------------------------------------------------------------------------
# Cache check first: the common case (image already built) must cost almost nothing.

want_stamp() {
    local h
    h=$(sha256sum "$SCRIPT_PATH" | cut -d' ' -f1)
    echo "build-image.sh sha256=$h"
}

image_current() {
    [[ -s "$CACHE_DIR/vmlinuz" && -s "$CACHE_DIR/initrd.gz" && -f "$CACHE_DIR/stamp" ]] &&
        [[ "$(cat "$CACHE_DIR/stamp")" == "$(want_stamp)" ]]
}

if [[ $FORCE -eq 0 ]] && image_current; then
    log "image in $CACHE_DIR is up to date"
    exit 0
fi

mkdir -p "$CACHE_DIR" || die "cannot create cache directory $CACHE_DIR"
CACHE_DIR=$(cd "$CACHE_DIR" && pwd)

# Serialise builds: two interop tests may ask for the image at the same time.
command -v flock >/dev/null || die "flock (util-linux) is missing"
exec 9>"$CACHE_DIR/.lock"
flock -w 900 9 || die "timed out waiting for another build holding $CACHE_DIR/.lock"
if [[ $FORCE -eq 0 ]] && image_current; then
    log "image in $CACHE_DIR was built by a concurrent run"
    exit 0
fi

# ---------------------------------------------------------------------------------------------
# Host tools.

APT_UPDATED=0
apt_update_once() {
    [[ $APT_UPDATED -eq 0 ]] || return 1
    APT_UPDATED=1
    log "running apt-get update"
    apt-get update -qq >&2 || die "apt-get update failed"
}

# tool command -> Debian package that provides it
declare -A HOST_TOOLS=(
    [qemu-system-x86_64]=qemu-system-x86
    [cpio]=cpio
    [gzip]=gzip
    [depmod]=kmod
    [modprobe]=kmod
    [readelf]=binutils
    [dpkg-deb]=dpkg
    [apt-get]=apt
)

ensure_host_tools() {
    local t missing=()
    # kmod's tools live in /usr/sbin, which a non-root PATH may lack.
    PATH="$PATH:/usr/sbin:/sbin"
    for t in "${!HOST_TOOLS[@]}"; do
        command -v "$t" >/dev/null || missing+=("${HOST_TOOLS[$t]}")
    done
    ((${#missing[@]})) || return 0
    mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
    [[ $EUID -eq 0 ]] || die "missing host packages: ${missing[*]} (run as root so they can be apt-get installed, or install them)"
    log "installing host packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2; then
        apt_update_once || true
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 ||
            die "apt-get install ${missing[*]} failed"
    fi
}
ensure_host_tools

# ---------------------------------------------------------------------------------------------
# Work area inside CACHE_DIR (same filesystem, so the final mv is atomic); removed on any exit.

WORK=$(mktemp -d "$CACHE_DIR/.build.XXXXXX")
cleanup() { rm -rf "$WORK"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

DEBS="$WORK/debs" PKG="$WORK/pkg" KROOT="$WORK/kernel" ROOT="$WORK/root"
mkdir -p "$DEBS" "$PKG" "$KROOT" "$ROOT"
# apt-get download drops privileges to _apt; let it reach and write the download directory so
# it does not warn (mktemp made WORK private).
if [[ $EUID -eq 0 ]] && id _apt >/dev/null 2>&1; then chmod 755 "$WORK"; chown _apt "$DEBS"; fi

apt_download() {
    if ! (cd "$DEBS" && apt-get download -qq "$@" >&2); then
        # Stale or missing package lists are the usual cause; refresh them once (needs root).
        if [[ $EUID -ne 0 ]] || ! apt_update_once; then
            die "apt-get download $* failed (no package lists? run apt-get update as root)"
        fi
        (cd "$DEBS" && apt-get download -qq "$@" >&2) || die "apt-get download $* failed"
    fi
}

kernel_package() {
    apt-cache depends linux-image-amd64 2>/dev/null |
        awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9].*-amd64$/ { print $2; exit }'
}

KPKG=${DPVPN_VM_KERNEL_PKG:-$(kernel_package)}
if [[ -z "$KPKG" ]]; then
    [[ $EUID -eq 0 ]] && apt_update_once && KPKG=$(kernel_package)
    [[ -n "$KPKG" ]] || die "cannot find the kernel package linux-image-amd64 depends on (apt-cache depends linux-image-amd64)"
fi

# The shared libraries the binaries need come from Debian's packages too, so the guest does not
# depend on what happens to be installed on the host: take every lib* package in the recursive
# Depends closure of the userland packages (perl's are never needed by these binaries).
mapfile -t LIB_PACKAGES < <(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
    --no-breaks --no-replaces --no-enhances "${USER_PACKAGES[@]}" 2>/dev/null |
    grep -E '^(lib[a-z0-9.+-]*|zlib1g)$' | grep -v perl | sort -u)
((${#LIB_PACKAGES[@]})) || log "warning: no library packages found in apt's lists; will fall back to the host's libraries"

log "downloading $KPKG, ${USER_PACKAGES[*]} and ${#LIB_PACKAGES[@]} library packages"
apt_download "$KPKG" "${USER_PACKAGES[@]}" "${LIB_PACKAGES[@]}"

log "unpacking"
for deb in "$DEBS"/*.deb; do
    case "$(basename "$deb")" in
        linux-image-*) dpkg -x "$deb" "$KROOT" ;;
        *) dpkg -x "$deb" "$PKG" ;;
    esac
done

KVER=$(ls "$KROOT/lib/modules")
[[ -n "$KVER" && $(wc -w <<<"$KVER") -eq 1 ]] || die "expected one kernel version in $KPKG, found: '$KVER'"
[[ -f "$KROOT/boot/vmlinuz-$KVER" ]] || die "$KPKG has no /boot/vmlinuz-$KVER"

# ---------------------------------------------------------------------------------------------
# Guest root: merged /usr like Debian 12, busybox for everything iproute2 etc. do not provide.

for d in usr/bin usr/sbin usr/lib/$MULTIARCH usr/lib64 etc/ppp/peers etc/dpvpn \
         proc sys dev tmp run var/log var/lock root mnt; do
    mkdir -p "$ROOT/$d"
done
ln -s usr/bin "$ROOT/bin"
ln -s usr/sbin "$ROOT/sbin"
ln -s usr/lib "$ROOT/lib"
ln -s usr/lib64 "$ROOT/lib64"
ln -s ../run "$ROOT/var/run"
chmod 1777 "$ROOT/tmp"

# --- ELF binaries and the shared libraries they need -----------------------------------------

LIB_SEARCH=("$PKG/lib/$MULTIARCH" "$PKG/usr/lib/$MULTIARCH" "$PKG/lib" "$PKG/usr/lib"
            "/lib/$MULTIARCH" "/usr/lib/$MULTIARCH")
declare -A COPIED_LIBS=()

# Copy one library (by soname) and, recursively, what it needs. readelf is used instead of ldd
# because it never runs the binary, so the host's loader and the packages' libc cannot clash.
copy_lib() {
    local soname=$1 dir src
    [[ -z "${COPIED_LIBS[$soname]:-}" ]] || return 0
    COPIED_LIBS[$soname]=1
    for dir in "${LIB_SEARCH[@]}"; do
        if [[ -e "$dir/$soname" ]]; then src="$dir/$soname"; break; fi
    done
    [[ -n "${src:-}" ]] || die "shared library $soname is in no downloaded package nor on the host"
    case "$src" in "$PKG"/*) ;; *) log "warning: $soname taken from the host ($src)" ;; esac
    cp -L "$src" "$ROOT/usr/lib/$MULTIARCH/$soname"
    copy_needed "$src"
}

copy_needed() {
    local lib
    for lib in $(readelf -dW "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
        copy_lib "$lib"
    done
}

BUSYBOX="$PKG/bin/busybox"
[[ -x "$BUSYBOX" ]] || die "the busybox package did not provide /bin/busybox"
install -m 755 "$BUSYBOX" "$ROOT/usr/bin/busybox"
copy_needed "$BUSYBOX"
# Debian's busybox only needs libc, which the host has, so it can list its own applets here.
while read -r applet; do
    [[ -n "$applet" && "$applet" != */busybox ]] || continue
    applet=${applet#/}
    applet="usr/${applet#usr/}"        # bin/x and usr/bin/x are the same place here
    [[ -e "$ROOT/$applet" || -L "$ROOT/$applet" ]] || ln -s /usr/bin/busybox "$ROOT/$applet"
done < <("$BUSYBOX" --list-full)

declare -A INSTALLED_BIN=()
for pair in "${GUEST_BINARIES[@]}"; do
    src="$PKG/${pair%%:*}" dst=${pair#*:}
    [[ -z "${INSTALLED_BIN[$dst]:-}" ]] || continue        # alternatives: first path that exists wins
    [[ -f "$src" ]] || continue
    rm -f "$ROOT/$dst"                                      # replaces busybox's applet of that name
    install -m 755 "$src" "$ROOT/$dst"
    copy_needed "$src"
    INSTALLED_BIN[$dst]=1
done
# iproute2's ip under both names that scripts use (/bin/ip is Debian's, /usr/sbin/ip is common
# elsewhere), replacing busybox's cut-down applet link.
ln -sfn ../bin/ip "$ROOT/usr/sbin/ip"
for dst in usr/bin/ip usr/sbin/tc usr/bin/iperf3 usr/sbin/pppd usr/sbin/pptp usr/bin/wg; do
    [[ -n "${INSTALLED_BIN[$dst]:-}" ]] || die "binary /$dst was not found in the unpacked packages"
done

# The dynamic loader, from the libc6 package when it was downloaded.
INTERP=$(readelf -lW "$PKG/bin/ip" | sed -n 's/.*Requesting program interpreter: \(.*\)\]/\1/p')
[[ "$INTERP" == /lib64/ld-linux-x86-64.so.2 ]] || die "unexpected program interpreter '$INTERP'"
copy_lib ld-linux-x86-64.so.2
ln -s ../lib/$MULTIARCH/ld-linux-x86-64.so.2 "$ROOT/usr/lib64/ld-linux-x86-64.so.2"
# glibc dlopens libgcc_s for thread cancellation; nothing links it, so copy it explicitly.
[[ -e "$PKG/lib/$MULTIARCH/libgcc_s.so.1" || -e "/lib/$MULTIARCH/libgcc_s.so.1" ]] && copy_lib libgcc_s.so.1

# OpenSSL 3 keeps MD4 and RC4 in its legacy provider; copy it in case a peer tool asks for it.
if [[ -d "$PKG/usr/lib/$MULTIARCH/ossl-modules" ]]; then
    mkdir -p "$ROOT/usr/lib/$MULTIARCH/ossl-modules"
    cp -L "$PKG/usr/lib/$MULTIARCH/ossl-modules/"*.so "$ROOT/usr/lib/$MULTIARCH/ossl-modules/"
fi

# iproute2's data: netem distribution tables and the name maps (rt_tables, ...).
if [[ -d "$PKG/usr/lib/$MULTIARCH/tc" ]]; then
    mkdir -p "$ROOT/usr/lib/$MULTIARCH/tc"
    cp "$PKG/usr/lib/$MULTIARCH/tc/"*.dist "$ROOT/usr/lib/$MULTIARCH/tc/"
fi
[[ -d "$PKG/etc/iproute2" ]] && cp -r "$PKG/etc/iproute2" "$ROOT/etc/"

# --- Kernel modules ----------------------------------------------------------------------------

# The .deb ships no modules.dep (its postinst makes it), so index the full tree first and ask
# modprobe for each wanted module's closure, in load order.
depmod -b "$KROOT" "$KVER" || die "depmod on the unpacked kernel failed"
LOAD_LIST=()
for m in "${GUEST_MODULES[@]}"; do
    deps=$(modprobe -d "$KROOT" -S "$KVER" --show-depends "$m" 2>&1) ||
        die "kernel $KVER has no module '$m': $deps"
    if grep -q '^builtin ' <<<"$deps"; then continue; fi
    while read -r verb path _; do
        [[ "$verb" == insmod ]] || continue
        rel=${path#"$KROOT/"}
        mkdir -p "$ROOT/$(dirname "$rel")"
        cp "$path" "$ROOT/$rel"
    done <<<"$deps"
    LOAD_LIST+=("$m")
done
for f in modules.order modules.builtin modules.builtin.modinfo; do
    [[ -f "$KROOT/lib/modules/$KVER/$f" ]] && cp "$KROOT/lib/modules/$KVER/$f" "$ROOT/usr/lib/modules/$KVER/"
done
depmod -b "$ROOT" "$KVER" || die "depmod on the guest tree failed"
printf '%s\n' "${LOAD_LIST[@]}" >"$ROOT/etc/dpvpn/modules"

# --- /etc ----------------------------------------------------------------------------------------

cat >"$ROOT/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
tcpdump:x:101:101:tcpdump:/nonexistent:/bin/false
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >"$ROOT/etc/group" <<'EOF'
root:x:0:
tcpdump:x:101:
nogroup:x:65534:
EOF
echo "$GUEST_HOSTNAME" >"$ROOT/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n' "$GUEST_HOSTNAME" >"$ROOT/etc/hosts"
: >"$ROOT/etc/resolv.conf"
echo "$KVER" >"$ROOT/etc/dpvpn/kernel-version"

# pppd refuses to start without /etc/ppp/options. Debian's copy says `auth`, which would make a
# dial-out client demand that the server authenticate itself; tests decide that on the command line.
cat >"$ROOT/etc/ppp/options" <<'EOF'
# Minimal pppd defaults for the dpvpn test VM; tests pass everything else on the command line.
noauth
EOF
: >"$ROOT/etc/ppp/options.pptp"
install -m 600 /dev/null "$ROOT/etc/ppp/chap-secrets"
install -m 600 /dev/null "$ROOT/etc/ppp/pap-secrets"

# --- /init ---------------------------------------------------------------------------------------

cat >"$ROOT/init" <<'EOF'
#!/bin/sh
# dpvpn kernel-peer VM init (generated by tests/interop/vm/build-image.sh).
export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm /dev/net
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts   # pppd's pty option needs it
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=755 tmpfs /run
mkdir -p /run/pptp /run/lock
# Keep kernel messages off the console so guest output stays readable (errors still show).
dmesg -n 3 2>/dev/null
for m in $(cat /etc/dpvpn/modules); do
    modprobe "$m" || echo "dpvpn-init: modprobe $m failed"
done
# devtmpfs normally creates these when ppp_generic and tun register; make sure they exist.
[ -c /dev/ppp ] || mknod -m 600 /dev/ppp c 108 0
[ -c /dev/net/tun ] || mknod -m 666 /dev/net/tun c 10 200
ip link set lo up
hostname "$(cat /etc/hostname)"
if [ -f /etc/guest.env ]; then
    set -a; . /etc/guest.env; set +a
fi
cd /
# One line the host can read the boot time from; the newline also ends the firmware's last line.
printf '\ndpvpn-init: %s up %s s after kernel start, running /guest.sh\n' "$(hostname)" "$(cut -d' ' -f1 /proc/uptime)"
if [ -f /guest.sh ]; then
    sh /guest.sh </dev/null
    rc=$?
else
    echo "dpvpn-init: no /guest.sh in the initramfs"
    rc=127
fi
sync
# Leading newline: the guest script's last line may lack one, and the host greps for the marker.
printf '\nDPVPN-GUEST-EXIT=%s\n' "$rc"
poweroff -f
# poweroff -f should not return; PID 1 must never exit (that panics the kernel).
while :; do sleep 3600; done
EOF
chmod 755 "$ROOT/init"

# --- Pack -----------------------------------------------------------------------------------------

log "packing initramfs"
(cd "$ROOT" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -6 >"$WORK/initrd.gz"
cp "$KROOT/boot/vmlinuz-$KVER" "$WORK/vmlinuz"

{
    echo "kernel: $KPKG ($KVER)"
    echo "packages:"
    for deb in "$DEBS"/*.deb; do
        dpkg-deb -f "$deb" Package Version | paste -sd' ' | sed 's/^Package: /  /; s/ Version: / /'
    done
    echo "modules loaded at boot: ${LOAD_LIST[*]}"
    echo "binaries: $(cd "$ROOT" && printf '/%s ' "${!INSTALLED_BIN[@]}")"
    echo "libraries: ${!COPIED_LIBS[*]}"
} >"$WORK/manifest.txt"

rm -f "$CACHE_DIR/stamp"
mv -f "$WORK/vmlinuz" "$CACHE_DIR/vmlinuz"
mv -f "$WORK/initrd.gz" "$CACHE_DIR/initrd.gz"
mv -f "$WORK/manifest.txt" "$CACHE_DIR/manifest.txt"
want_stamp >"$CACHE_DIR/stamp"
log "built $CACHE_DIR/vmlinuz ($KVER) and initrd.gz ($(du -h "$CACHE_DIR/initrd.gz" | cut -f1))"
