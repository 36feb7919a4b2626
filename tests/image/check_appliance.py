#!/usr/bin/env python3
"""check_appliance.py REPO_DIR: the appliance image's udev rules and units, without
building or booting the image (ctest `appliance_config`, a few seconds).

1. Syntax: every line of image/rootfs/etc/udev/rules.d/*.rules is a comment or a list of
   KEY[{attr}] OP "value" pairs with a known key, an operator that key accepts, and GOTO
   targets that exist; every shell script parses (sh -n / bash -n).
2. Evaluation over recorded devices: a small evaluator of the rules (the subset they use)
   runs over every block device in tests/platform/fixtures (real sysfs captures of a USB
   stick, a SATA disk, an NVMe drive, an SD card, virtio, loop, and hand-made ones),
   calling the real exhibit-blockguard in --dry-run mode on that sysfs tree. Every disk
   and partition must come out read-only and hidden from udisks and systemd; the
   appliance's own disk (its partitions named EXHIBIT-ROOT-<build id>) must be exempt, a
   disk naming a different build id must not be, ram/zram and remove events are skipped,
   and an EXHIBIT-OUT label only marks an output candidate, still read-only.
3. The real udev, when run as root: in a private mount namespace whose /etc/udev and
   /usr/lib/udev carry the appliance's rules and helper, `udevadm test --action=add` runs
   on real loop devices (partitioned by sfdisk): an evidence disk and its partitions must
   end with the kernel read-only flag set, an appliance disk must stay writable.
4. systemd-analyze verify on the appliance's units; the only complaint accepted is a
   command that exists in the image but not on this machine.
"""

import fnmatch
import os
import re
import shutil
import subprocess
import sys
import tempfile

REPO = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", ".."))
ROOTFS = os.path.join(REPO, "image", "rootfs")
RULES_DIR = os.path.join(ROOTFS, "etc", "udev", "rules.d")
HELPER = os.path.join(ROOTFS, "usr", "lib", "udev", "exhibit-blockguard")
FIXTURES = os.path.join(REPO, "tests", "platform", "fixtures")
# Commands the image's Debian packages provide (image/build installs them).
IMAGE_PACKAGE_COMMANDS = {"/usr/bin/cage"}

passed = 0
failed = 0
skipped = 0


def check(ok, what, detail=""):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print(f"FAIL: {what}{': ' + detail if detail else ''}")


def skip(what):
    global skipped
    skipped += 1
    print(f"SKIPPED: {what}")


# --- 1. syntax ------------------------------------------------------------------------------
MATCH_KEYS = {"ACTION", "DEVPATH", "KERNEL", "KERNELS", "SUBSYSTEM", "SUBSYSTEMS", "DRIVER", "DRIVERS",
              "ATTR", "ATTRS", "SYSCTL", "ENV", "CONST", "TAG", "TAGS", "TEST", "PROGRAM", "RESULT",
              "SYMLINK", "NAME"}
ASSIGN_KEYS = {"NAME", "SYMLINK", "OWNER", "GROUP", "MODE", "SECLABEL", "ATTR", "SYSCTL", "ENV", "TAG", "RUN",
               "LABEL", "GOTO", "IMPORT", "OPTIONS"}
TOKEN = re.compile(r'\s*(?P<key>[A-Z_]+)(?:\{(?P<attr>[^}]*)\})?\s*(?P<op>==|!=|\+=|-=|:=|=)\s*"(?P<val>[^"]*)"\s*')


def parse_rules(path):
    """[(line number, [(key, attr, op, value)])], or raises ValueError naming the line."""
    rules = []
    with open(path) as f:
        for n, raw in enumerate(f, 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            tokens, pos = [], 0
            while pos < len(line):
                m = TOKEN.match(line, pos)
                if not m:
                    raise ValueError(f"{os.path.basename(path)}:{n}: cannot parse at column {pos + 1}: {line[pos:]!r}")
                key, op = m["key"], m["op"]
                if op in ("==", "!="):
                    if key not in MATCH_KEYS:
                        raise ValueError(f"{os.path.basename(path)}:{n}: {key} cannot be matched")
                elif key not in ASSIGN_KEYS:
                    raise ValueError(f"{os.path.basename(path)}:{n}: {key} cannot be assigned")
                tokens.append((key, m["attr"], op, m["val"]))
                pos = m.end()
                if pos < len(line):
                    if line[pos] != ",":
                        raise ValueError(f"{os.path.basename(path)}:{n}: expected ',' at column {pos + 1}")
                    pos += 1
            rules.append((n, tokens))
    labels = {t[3] for _, ts in rules for t in ts if t[0] == "LABEL"}
    for n, ts in rules:
        for t in ts:
            if t[0] == "GOTO" and t[3] not in labels:
                raise ValueError(f"{os.path.basename(path)}:{n}: GOTO to missing LABEL {t[3]}")
    return rules


rule_files = sorted(f for f in os.listdir(RULES_DIR) if f.endswith(".rules"))
check("00-exhibit-readonly.rules" in rule_files and rule_files[0] == "00-exhibit-readonly.rules",
      "the read-only rules sort first", " ".join(rule_files))
parsed = {}
for name in rule_files:
    try:
        parsed[name] = parse_rules(os.path.join(RULES_DIR, name))
        check(True, name)
    except ValueError as e:
        check(False, "rules parse", str(e))

# The parser must reject broken lines (so that the check above can fail).
with tempfile.NamedTemporaryFile("w", suffix=".rules", delete=False) as bad:
    bad.write('SUBSYSTEM=="block" ENV{X}="1"\n')
try:
    parse_rules(bad.name)
    check(False, "the rules parser rejects a line without a comma")
except ValueError:
    check(True, "the rules parser rejects a line without a comma")
os.unlink(bad.name)

for script, shell in [(HELPER, "sh"), (os.path.join(ROOTFS, "usr/lib/exhibit/exhibit-firstboot"), "sh"),
                      (os.path.join(ROOTFS, "usr/lib/exhibit/exhibit-selfcheck"), "bash"),
                      (os.path.join(ROOTFS, "usr/lib/exhibit/exhibit-clock-record"), "sh"),
                      (os.path.join(ROOTFS, "usr/lib/exhibit/exhibit-station-session"), "bash"),
                      (os.path.join(REPO, "image/build"), "bash"), (os.path.join(REPO, "image/customize-rootfs"), "bash")]:
    r = subprocess.run([shell, "-n", script], capture_output=True, text=True)
    check(r.returncode == 0 and os.access(script, os.X_OK), f"{os.path.relpath(script, REPO)} parses and is executable",
          r.stderr.strip())
try:
    with open(os.path.join(REPO, "image/test-boot")) as f:
        compile(f.read(), "image/test-boot", "exec")
    check(True, "image/test-boot compiles")
except SyntaxError as e:
    check(False, "image/test-boot compiles", str(e))


# --- 2. evaluation over recorded devices -----------------------------------------------------
def matches(value, pattern):
    return any(fnmatch.fnmatchcase(value, p) for p in pattern.split("|"))


def evaluate(rules, env, sysfs, conf):
    """Runs one rules file over a device's properties (env, updated in place); returns the RUN list."""
    run, goto = [], None
    for _, tokens in rules:
        if goto:
            if any(t[0] == "LABEL" and t[3] == goto for t in tokens):
                goto = None
            continue
        ok = True
        for key, attr, op, val in tokens:
            if op not in ("==", "!="):
                continue
            have = {"ACTION": env.get("ACTION", ""), "SUBSYSTEM": env.get("SUBSYSTEM", ""),
                    "KERNEL": os.path.basename(env.get("DEVNAME", "")), "ENV": env.get(attr or "", "")}.get(key)
            if have is None:
                raise ValueError(f"the evaluator does not know {key}")
            if matches(have, val) != (op == "=="):
                ok = False
                break
        if not ok:
            continue
        for key, attr, op, val in tokens:
            if key == "ENV" and op in ("=", ":="):
                env[attr] = val
            elif key == "RUN":
                run.append(val)
            elif key == "GOTO":
                goto = val
            elif key == "IMPORT" and attr == "program":
                program = val if val.startswith("/") else HELPER if val == "exhibit-blockguard" else None
                if program is None:
                    raise ValueError(f"unknown program {val}")
                r = subprocess.run(["sh", program, "--dry-run"], capture_output=True, text=True,
                                   env={**env, "EXHIBIT_SYSFS": sysfs, "EXHIBIT_BOOT_DISK_CONF": conf,
                                        "PATH": os.environ.get("PATH", "/usr/bin:/bin")})
                if r.returncode == 0:
                    for line in r.stdout.splitlines():
                        k, _, v = line.partition("=")
                        env[k] = v
                env["_guard_log"] = r.stderr.strip()
    return run


def fixture_devices(root):
    cls = os.path.join(root, "class", "block")
    for name in sorted(os.listdir(cls)):
        target = os.path.realpath(os.path.join(cls, name))
        props = {}
        with open(os.path.join(target, "uevent")) as f:
            for line in f:
                k, _, v = line.strip().partition("=")
                props[k] = v
        yield {"ACTION": "add", "SUBSYSTEM": "block", "DEVPATH": target[len(os.path.realpath(root)):],
               **props, "DEVNAME": "/dev/" + props.get("DEVNAME", name)}


def run_all(env, sysfs, conf):
    out = []
    for name in rule_files:
        out += evaluate(parsed[name], env, sysfs, conf)
    return out


work = tempfile.mkdtemp(prefix="exhibit-appliance-check-")
conf = os.path.join(work, "exhibit-boot-disk")
with open(conf, "w") as f:
    f.write("EXHIBIT_BOOT_ID=0badc0de\n")

buses_seen = set()
for fixture in sorted(os.listdir(FIXTURES)):
    root = os.path.join(FIXTURES, fixture)
    if not os.path.isdir(os.path.join(root, "class", "block")):
        continue
    for dev in fixture_devices(root):
        env = dict(dev)
        run = run_all(env, root, conf)
        name = f"{fixture}/{os.path.basename(dev['DEVNAME'])}"
        protected = (env.get("EXHIBIT_GUARD") == "readonly" and env.get("UDISKS_IGNORE") == "1"
                     and env.get("UDISKS_AUTO") == "0" and env.get("SYSTEMD_READY") == "0")
        check(protected, f"{name} ({dev.get('DEVTYPE')}) is set read-only and hidden from udisks and systemd",
              str({k: env.get(k) for k in ("EXHIBIT_GUARD", "UDISKS_IGNORE", "SYSTEMD_READY")}) + " " +
              env.get("_guard_log", ""))
        check(any("logger" in r and "exhibit-guard" in r for r in run), f"{name}: the attach is logged")
        check("'" in env.get("_guard_log", "") and "model" in env.get("_guard_log", ""),
              f"{name}: the guard's log line names the device", env.get("_guard_log", ""))
        buses_seen.add(fixture.replace("handmade_", ""))
check({"usb_stick", "sata_disk", "nvme", "sd_card"} <= buses_seen, "USB, SATA, NVMe and MMC devices were evaluated",
      " ".join(sorted(buses_seen)))

# The USB stick's log line carries its USB id and serial, read from sysfs.
env = next(d for d in fixture_devices(os.path.join(FIXTURES, "usb_stick")) if d["DEVTYPE"] == "disk")
run_all(env, os.path.join(FIXTURES, "usb_stick"), conf)
check("usb 46f4:0001" in env["_guard_log"] and "EXHIBIT0USB0001" in env["_guard_log"],
      "the USB stick is logged with its USB id and serial", env["_guard_log"])


def copy_with_partnames(src, dst, partname):
    shutil.copytree(src, dst, symlinks=True)
    for dirpath, _, files in os.walk(dst):
        if "partition" in files or ("uevent" in files and os.path.basename(dirpath)[-1:].isdigit()
                                    and "DEVTYPE=partition" in open(os.path.join(dirpath, "uevent")).read()):
            with open(os.path.join(dirpath, "uevent"), "a") as f:
                f.write(f"PARTNAME={partname}\n")


# The appliance's own disk is exempt; a disk claiming another build's name is not.
for partname, want in (("EXHIBIT-ROOT-0badc0de", "bootdisk"), ("EXHIBIT-ROOT-deadbeef", "readonly"),
                       ("EXHIBIT-DATA-0badc0de", "readonly")):
    root = os.path.join(work, f"sata-{partname}")
    copy_with_partnames(os.path.join(FIXTURES, "sata_disk"), root, partname)
    for dev in fixture_devices(root):
        env = dict(dev)
        run_all(env, root, conf)
        hidden = env.get("SYSTEMD_READY") == "0" or env.get("UDISKS_IGNORE") == "1"
        check(env.get("EXHIBIT_GUARD") == want and hidden == (want != "bootdisk"),
              f"partitions named {partname}: {os.path.basename(dev['DEVNAME'])} is {want}",
              f"{env.get('EXHIBIT_GUARD')} {env.get('_guard_log', '')}")

# Memory-backed devices and remove events are left alone.
for env in ({"ACTION": "add", "SUBSYSTEM": "block", "DEVNAME": "/dev/zram0", "DEVTYPE": "disk", "DEVPATH": "/x"},
            {"ACTION": "add", "SUBSYSTEM": "block", "DEVNAME": "/dev/ram0", "DEVTYPE": "disk", "DEVPATH": "/x"},
            {"ACTION": "remove", "SUBSYSTEM": "block", "DEVNAME": "/dev/sdb", "DEVTYPE": "disk", "DEVPATH": "/x"},
            {"ACTION": "add", "SUBSYSTEM": "usb", "DEVNAME": "/dev/bus/usb/001/002", "DEVTYPE": "usb_device",
             "DEVPATH": "/x"}):
    run_all(env, work, conf)
    check("EXHIBIT_GUARD" not in env, f"{env['ACTION']} {env['DEVNAME']} is not touched")

# An output drive prepared by Exhibit is offered, never left writable by udev.
env = next(d for d in fixture_devices(os.path.join(FIXTURES, "usb_stick")) if d["DEVTYPE"] == "partition")
env["ID_FS_LABEL"] = "EXHIBIT-OUT"  # as 60-persistent-storage.rules (blkid) would have set it
run_all(env, os.path.join(FIXTURES, "usb_stick"), conf)
check(env.get("EXHIBIT_GUARD") == "readonly" and env.get("EXHIBIT_OUTPUT_CANDIDATE") == "1",
      "an EXHIBIT-OUT partition is an output candidate and still read-only",
      str({k: env.get(k) for k in ("EXHIBIT_GUARD", "EXHIBIT_OUTPUT_CANDIDATE")}))


# --- 3. the real udev on loop devices ------------------------------------------------------------
def sh(cmd, **kw):
    return subprocess.run(cmd, shell=True, capture_output=True, text=True, **kw)


def real_udev_test():
    if os.geteuid() != 0:
        skip("udevadm test on loop devices needs root")
        return
    if not shutil.which("udevadm") or not shutil.which("losetup") or not shutil.which("sfdisk"):
        skip("udevadm, losetup or sfdisk missing")
        return
    etc = os.path.join(work, "etc-udev")
    lib = os.path.join(work, "lib-udev")
    shutil.copytree("/etc/udev", etc, symlinks=True)
    for name in rule_files:
        shutil.copy(os.path.join(RULES_DIR, name), os.path.join(etc, "rules.d", name))
    with open(os.path.join(etc, "exhibit-boot-disk"), "w") as f:
        f.write("EXHIBIT_BOOT_ID=0badc0de\n")
    shutil.copytree("/usr/lib/udev", lib, symlinks=True)
    shutil.copy(HELPER, os.path.join(lib, "exhibit-blockguard"))

    loops = {}
    try:
        for kind, names in (("evidence", ("EVIDENCE-A", "EVIDENCE-B")),
                            ("appliance", ("EXHIBIT-ESP-0badc0de", "EXHIBIT-ROOT-0badc0de"))):
            img = os.path.join(work, f"{kind}.img")
            with open(img, "wb") as f:
                f.truncate(8 << 20)
            script = "label: gpt\n" + "".join(f"size=2MiB, name={n}\n" for n in names)
            r = subprocess.run(["sfdisk", "-q", img], input=script, capture_output=True, text=True)
            if r.returncode != 0:
                check(False, "sfdisk makes a GPT test disk", r.stderr.strip())
                return
            r = sh(f"losetup --find --show --partscan {img}")
            if r.returncode != 0:
                skip(f"no loop device here ({r.stderr.strip()})")
                return
            loops[kind] = r.stdout.strip()
            # The kernel's partition scan of a new loop device can lag; partx adds them now.
            sh(f"partx --add {loops[kind]}")
        sh("udevadm settle --timeout=10")
        app = os.path.basename(loops["appliance"])
        with open(f"/sys/block/{app}/{app}p2/uevent") as f:
            kernel_names_partitions = "PARTNAME=EXHIBIT-ROOT-0badc0de" in f.read()
        if not kernel_names_partitions:
            skip("this kernel does not parse partition tables itself (no PARTNAME in uevent): "
                 "the appliance-disk exemption is not checked with the real udev here")
        for kind, dev in loops.items():
            name = os.path.basename(dev)
            nodes = [name] + sorted(p for p in os.listdir(f"/sys/block/{name}") if p.startswith(name + "p"))
            check(len(nodes) == 3, f"{kind} loop disk has its two partitions", " ".join(nodes))
            for node in nodes:
                sysdir = f"/sys/block/{name}" + ("" if node == name else f"/{node}")
                # Start writable, whatever the host's own udev did on attach.
                sh(f"blockdev --setrw /dev/{node}")
                r = subprocess.run(
                    ["unshare", "--mount", "--propagation", "private", "sh", "-c",
                     f"mount --bind {etc} /etc/udev && mount --bind {lib} /usr/lib/udev && "
                     f"udevadm test --action=add {sysdir}"], capture_output=True, text=True, timeout=60)
                with open(f"{sysdir}/ro") as f:
                    ro = f.read().strip()
                out = r.stdout + r.stderr
                if kind == "evidence":
                    check(r.returncode == 0 and "EXHIBIT_GUARD=readonly" in out and "SYSTEMD_READY=0" in out
                          and "UDISKS_IGNORE=1" in out and ro == "1",
                          f"udevadm test: evidence {node} is set read-only by the real rules",
                          f"rc={r.returncode} ro={ro} " + "; ".join(l for l in out.splitlines() if "EXHIBIT" in l)[:400])
                elif not kernel_names_partitions:
                    # partx adds partitions without their GPT names: the guard cannot know
                    # the disk, so it protects it (fail-safe). The exemption itself is
                    # checked on recorded sysfs above and by image/test-boot.
                    check(r.returncode == 0 and "EXHIBIT_GUARD=readonly" in out and ro == "1",
                          f"udevadm test: unnamed appliance-like {node} is protected (fail-safe)", f"ro={ro}")
                else:
                    check(r.returncode == 0 and "EXHIBIT_GUARD=bootdisk" in out and ro == "0"
                          and "SYSTEMD_READY=0" not in out,
                          f"udevadm test: appliance disk {node} stays writable",
                          f"rc={r.returncode} ro={ro} " + "; ".join(l for l in out.splitlines() if "EXHIBIT" in l)[:400])
    finally:
        for dev in loops.values():
            sh(f"blockdev --setrw {dev}; losetup -d {dev}")


real_udev_test()


# --- 4. systemd units -------------------------------------------------------------------------------
units_dir = os.path.join(ROOTFS, "etc", "systemd", "system")
units = sorted(os.path.join(units_dir, u) for u in os.listdir(units_dir) if u.endswith(".service"))
if shutil.which("systemd-analyze"):
    r = subprocess.run(["systemd-analyze", "verify", "--man=no", *units], capture_output=True, text=True,
                       env={**os.environ, "SYSTEMD_LOG_LEVEL": "notice"})
    complaints = []
    for line in (r.stdout + r.stderr).splitlines():
        m = re.search(r"Command (\S+) is not executable: No such file or directory", line)
        if m and (m[1] in IMAGE_PACKAGE_COMMANDS or os.access(os.path.join(ROOTFS, m[1].lstrip("/")), os.X_OK)):
            continue  # present in the image, not on this machine
        if line.strip():
            complaints.append(line.strip())
    check(not complaints, f"systemd-analyze verify accepts {len(units)} units", "; ".join(complaints))
    # ...and does complain about a broken unit (so the check above can fail).
    broken = os.path.join(work, "exhibit-broken.service")
    with open(broken, "w") as f:
        f.write("[Service]\nExecStart=/bin/true\nRestartt=always\n")
    r = subprocess.run(["systemd-analyze", "verify", "--man=no", broken], capture_output=True, text=True)
    check("Restartt" in r.stdout + r.stderr, "systemd-analyze verify reports an unknown key")
else:
    skip("systemd-analyze is missing")
SELFCHECK_UNIT = "exhibit-selfcheck.service"
for unit in units:
    text = open(unit).read()
    if os.path.basename(unit) == SELFCHECK_UNIT:
        # Never enabled: only the kernel command line test-boot puts on a copy starts it.
        check("[Install]" not in text and "ConditionKernelCommandLine=exhibit.selfcheck" in text,
              f"{SELFCHECK_UNIT} cannot be enabled and needs exhibit.selfcheck on the kernel command line")
    else:
        check("[Install]" in text, f"{os.path.basename(unit)} can be enabled")
customize = open(os.path.join(REPO, "image/customize-rootfs")).read()
check(SELFCHECK_UNIT not in customize and not os.path.exists(
      os.path.join(units_dir, "multi-user.target.wants", SELFCHECK_UNIT)),
      "the image does not enable the self-check")
station = open(os.path.join(units_dir, "exhibit-station.service")).read()
for needle in ("User=exhibit", "Restart=always", "TTYPath=/dev/tty1", "Conflicts=getty@tty1.service", "cage",
               "PAMName=", "LIBSEAT_BACKEND=logind"):
    check(needle in station, f"exhibit-station.service has {needle}")
# The service's main process is the wrapper, which runs cage with the station as a child
# (cage 0.1.4 would otherwise wait for ever for the (sd-pam) process on its error path).
exec_start = re.findall(r"^ExecStart=(\S+)", station, re.M)
session_script = open(os.path.join(ROOTFS, "usr/lib/exhibit/exhibit-station-session")).read()
check(exec_start == ["/usr/lib/exhibit/exhibit-station-session"]
      and re.search(r"^/usr/bin/cage .*-- /usr/bin/exhibit-station --fullscreen .*&$", session_script, re.M)
      and 'exit "$status"' in session_script,
      "exhibit-station.service runs cage and the station as children of exhibit-station-session", str(exec_start))

# dracut puts the guard into the initramfs: the files it names must be the ones we ship.
dracut_conf = open(os.path.join(ROOTFS, "etc/dracut.conf.d/exhibit.conf")).read()
for item in re.findall(r"install_items\+=\"([^\"]*)\"", dracut_conf)[0].split():
    ours = item.startswith("/etc/udev/rules.d/") or item.startswith("/usr/lib/udev/exhibit")
    if ours:
        check(os.path.exists(os.path.join(ROOTFS, item.lstrip("/"))), f"dracut installs {item}, which image/rootfs has")

# --- 5. image/test-boot and the appliance's self-check ------------------------------------------
def load_test_boot():
    import importlib.machinery
    import importlib.util
    loader = importlib.machinery.SourceFileLoader("exhibit_test_boot", os.path.join(REPO, "image/test-boot"))
    spec = importlib.util.spec_from_loader("exhibit_test_boot", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


try:
    test_boot = load_test_boot()
except SystemExit:
    test_boot = None
    skip("image/test-boot cannot be loaded here (python3-pexpect missing)")
if test_boot is not None:
    selfcheck = open(os.path.join(ROOTFS, "usr/lib/exhibit/exhibit-selfcheck")).read()
    wanted = [cid for cid, _ in test_boot.SYSTEM_CHECKS] + [f"disk:$disk:{cid}" for cid, _ in test_boot.DISK_CHECKS]
    wanted += ["disk:$disk:partitions", "disk:$disk:read-only:$node", "disk:$disk:write-refused:$node"]
    missing = [cid for cid in wanted if f" {cid}" not in selfcheck and f'"{cid}"' not in selfcheck]
    check(not missing, "every check image/test-boot requires is one exhibit-selfcheck reports", " ".join(missing))
    for word in test_boot.SELFCHECK_ARGS.split():
        check(word.split("=")[0] in selfcheck + open(os.path.join(units_dir, SELFCHECK_UNIT)).read(),
              f"the self-check knows the kernel parameter {word}")
    # Every plain function test-boot calls is defined there or a builtin (it is run rarely).
    import ast
    import builtins
    tree = ast.parse(open(os.path.join(REPO, "image/test-boot")).read())
    defined = {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    called = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    undefined = sorted(c for c in called - defined if not hasattr(builtins, c))
    check(not undefined, "image/test-boot calls only functions it defines", " ".join(undefined))
    # Serial lines reach test-boot through two terminals (the guest's and pexpect's pty),
    # so as "\r\r\n"; kernel messages may sit around them.
    m = test_boot.SelfCheck.LINE.search("[ 12.3] x\r\nEXHIBIT-SELFCHECK PASS disk:sda:journal a b\r\r\nroot@exhibit")
    check(m is not None and m.group(1) == "PASS" and m.group(2) == "disk:sda:journal a b",
          "test-boot reads a self-check line that ends in CR CR LF")
    # The boot entry of a copy gets the parameters, through mtools, at the ESP's offset.
    tools = [t for t in ("sgdisk", "mkfs.vfat", "mcopy", "mmd") if not shutil.which(t)]
    if tools:
        skip(f"the boot-entry edit is not checked ({' '.join(tools)} missing)")
    else:
        disk = os.path.join(work, "disk.img")
        esp = os.path.join(work, "esp.vfat")
        entry = os.path.join(work, "entry.conf")
        with open(entry, "w") as f:
            f.write("title Exhibit\nlinux /exhibit/vmlinuz\noptions root=PARTUUID=x ro quiet\n")
        envm = {**os.environ, "MTOOLS_SKIP_CHECK": "1"}
        ok = (sh(f"truncate -s 40M {disk} && sgdisk --clear --new=1:3M:+33M --typecode=1:ef00 {disk} >/dev/null && "
                 f"mkfs.vfat -F 32 -C {esp} $((33 * 1024)) >/dev/null && mmd -i {esp} ::/loader ::/loader/entries && "
                 f"mcopy -i {esp} {entry} ::/loader/entries/exhibit.conf && "
                 f"dd if={esp} of={disk} bs=1M seek=3 conv=notrunc status=none", env=envm).returncode == 0)
        check(ok, "a small GPT disk with an ESP is made for the boot-entry edit")
        if ok:
            options = test_boot.add_selfcheck_to_boot_entry(disk, work)
            r = sh(f"mcopy -n -i {disk}@@{3 << 20} ::/loader/entries/exhibit.conf -", env=envm)
            check(r.stdout.splitlines()[-1] == f"options root=PARTUUID=x ro quiet {test_boot.SELFCHECK_ARGS}"
                  and options == r.stdout.splitlines()[-1] and r.stdout.startswith("title Exhibit\nlinux "),
                  "test-boot adds the self-check's parameters to the copy's boot entry", r.stdout + r.stderr)
        try:
            test_boot.esp_offset(entry)
            check(False, "test-boot refuses a disk without a GPT")
        except ValueError:
            check(True, "test-boot refuses a disk without a GPT")

shutil.rmtree(work, ignore_errors=True)
print(f"appliance_config: {passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
sys.exit(1 if failed else 0)
