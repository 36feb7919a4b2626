#!/bin/bash
# Captures real sysfs trees of a USB stick, a SATA disk, an NVMe SSD and an SD card by
# booting Debian's kernel under QEMU (TCG, no KVM needed) with those four devices emulated,
# running capture_sysfs.sh in a tiny busybox initramfs, and pulling the trees out over a
# second serial port. Writes fixtures/{usb_stick,sata_disk,nvme,sd_card}.
#
#   apt-get install qemu-system-x86 linux-image-amd64 busybox-static
#   tests/platform/capture_qemu_fixtures.sh [KERNEL_RELEASE]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
release=${1:-$(ls /lib/modules | sort -V | tail -1)}
kernel=/boot/vmlinuz-$release
[ -f "$kernel" ] || { echo "no $kernel: install linux-image-amd64" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/root
mkdir -p "$root"/{bin,proc,sys,dev,out}
cp "$(command -v busybox)" "$root/bin/busybox"
file "$root/bin/busybox" | grep -q "statically linked" || { echo "needs busybox-static" >&2; exit 1; }

# The drivers for the four devices and what they depend on, as modprobe resolves them.
for m in xhci_pci usb_storage sd_mod ahci nvme sdhci_pci mmc_block; do
    modprobe -S "$release" --show-depends "$m" | awk '/^insmod/ {print $2}'
done | sort -u | while read -r ko; do
    mkdir -p "$root$(dirname "$ko")"
    cp "$ko" "$root$ko"
done
cp /lib/modules/"$release"/modules.{dep,alias,builtin,order,softdep,symbols} \
    "$root/lib/modules/$release/"
cp "$here/capture_sysfs.sh" "$root/capture_sysfs.sh"

cat >"$root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs dev /dev
for m in xhci_pci usb_storage sd_mod ahci nvme sdhci_pci mmc_block; do modprobe $m; done
# USB enumeration and the stick's SCSI scan take a few seconds.
for i in $(seq 1 30); do
    [ "$(ls /sys/block | grep -c -E '^(sd|nvme|mmcblk)')" -ge 4 ] && break
    sleep 1
done
sleep 2
for d in /sys/block/*; do
    case "$(readlink -f "$d")" in
        */usb*) dest=usb_stick ;;
        */ata*) dest=sata_disk ;;
        */nvme*) dest=nvme ;;
        */mmc*) dest=sd_card ;;
        *) continue ;;
    esac
    sh /capture_sysfs.sh "/out/$dest" "$(basename "$d")" >/dev/console 2>&1
done
(cd /out && tar -cf - .) | base64 >/dev/ttyS1
poweroff -f
INIT
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc 2>/dev/null | gzip -1) >"$work/initramfs.gz"

# Each disk gets a DOS label with two partitions, so the trees show partitions too.
for n in usb sata nvme sd; do
    truncate -s 64M "$work/$n.img"
    printf 'label: dos\n,16M\n,\n' | sfdisk -q "$work/$n.img"
done
timeout 600 qemu-system-x86_64 -accel tcg -m 768 -nographic -no-reboot -monitor none \
    -kernel "$kernel" -initrd "$work/initramfs.gz" -append "console=ttyS0 panic=-1 loglevel=4" \
    -serial "file:$work/console.log" -serial "file:$work/out.b64" \
    -device qemu-xhci,id=xhci \
    -drive "if=none,id=usbd,file=$work/usb.img,format=raw" \
    -device usb-storage,bus=xhci.0,drive=usbd,removable=on,serial=EXHIBIT0USB0001 \
    -device ahci,id=ahci -drive "if=none,id=sata,file=$work/sata.img,format=raw" \
    -device ide-hd,drive=sata,bus=ahci.0,model=ExhibitTestSSD,serial=EXH-SATA-0001 \
    -drive "if=none,id=nv,file=$work/nvme.img,format=raw" \
    -device nvme,serial=EXHNVME0001,drive=nv \
    -device sdhci-pci -drive "if=none,id=sd,file=$work/sd.img,format=raw" \
    -device sd-card,drive=sd >"$work/qemu.out" 2>&1

mkdir -p "$work/trees"
tr -d '\r' <"$work/out.b64" | base64 -d | tar -C "$work/trees" -xf -
for name in usb_stick sata_disk nvme sd_card; do
    [ -d "$work/trees/$name" ] || { echo "the guest captured no $name" >&2; cat "$work/console.log" >&2; exit 1; }
    rm -rf "${here:?}/fixtures/$name"
    cp -a "$work/trees/$name" "$here/fixtures/$name"
done
echo "captured usb_stick sata_disk nvme sd_card under Linux $release into $here/fixtures"
