#!/bin/bash
# Copies the part of /sys that device discovery reads, for the named whole disks, into DEST
# as a fixture tree: the block device directories and their partitions, the attribute files
# of every ancestor device directory (vendor, model, serial, idVendor, ...), and the
# class/block, block and dev/block symlinks, kept as relative links so the tree resolves
# inside itself.
#
#   tests/platform/capture_sysfs.sh DEST vda loop0      # SYSFS=/other/root to read elsewhere
set -euo pipefail

if [ $# -lt 2 ]; then
    echo "usage: $0 DEST DISK..." >&2
    exit 2
fi
dest=$1
shift
sys=${SYSFS:-/sys}
mkdir -p "$dest"

# Attributes read by platform/ (and a few an examiner would want next to them).
block_attrs="dev size ro removable stat uevent partition start hidden capability serial
             range ext_range events diskseq"
device_attrs="vendor model name rev serial type uevent wwid firmware_rev state
              idVendor idProduct manufacturer product bcdDevice busnum devnum speed version
              cid csd oemid manfid date hwrev fwrev
              vpd_pg80 vpd_pg83 transport subsystem_vendor subsystem_device device class
              numa_node address features status modalias"

copy_file() {  # $1: absolute path under $sys
    local rel=${1#"$sys"/}
    mkdir -p "$dest/$(dirname "$rel")"
    # Some attributes are readable only while the device answers; skip those that fail.
    cat "$1" >"$dest/$rel" 2>/dev/null || rm -f "$dest/$rel"
}

copy_link() {  # $1: absolute path of a symlink under $sys
    local rel=${1#"$sys"/}
    mkdir -p "$dest/$(dirname "$rel")"
    ln -sfn "$(readlink "$1")" "$dest/$rel"
}

copy_block_node() {  # $1: resolved block device directory
    for a in $block_attrs; do
        [ -f "$1/$a" ] && copy_file "$1/$a"
    done
    [ -L "$1/device" ] && copy_link "$1/device"
    [ -L "$1/subsystem" ] && copy_link "$1/subsystem"
    if [ -d "$1/loop" ]; then
        for a in "$1"/loop/*; do [ -f "$a" ] && copy_file "$a"; done
    fi
    local dev
    dev=$(cat "$1/dev")
    copy_link "$sys/dev/block/$dev"
    copy_link "$sys/class/block/$(basename "$1")"
}

for disk in "$@"; do
    node=$(readlink -f "$sys/block/$disk")
    copy_link "$sys/block/$disk"
    copy_block_node "$node"
    for part in "$node"/*/partition; do
        [ -f "$part" ] && copy_block_node "$(dirname "$part")"
    done
    # Every ancestor device directory up to /sys/devices: the disk's SCSI/NVMe/MMC device,
    # its host, the USB interface and device, the PCI function.
    dir=$(dirname "$node")
    while [ "$dir" != "$sys/devices" ] && [ "$dir" != "/" ]; do
        for a in $device_attrs; do
            [ -f "$dir/$a" ] && [ ! -L "$dir/$a" ] && copy_file "$dir/$a"
        done
        dir=$(dirname "$dir")
    done
done
echo "captured $* from $sys into $dest"
