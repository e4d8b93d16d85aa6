# The sandbox launcher: runs on the host, outside the sandbox, between the ToolExecutor and bwrap.
# It exists because only the parent of bwrap can learn the CPU time and peak memory of everything
# that ran inside (wait4 sums the reaped descendants), and because it enforces what the kernel
# cannot on a host without cgroup v2: the wall clock and the workspace's total size.
# argv[1]: a JSON spec written by SandboxRunner. The report (JSON) goes to spec["report"].
import json, os, platform, resource, select, signal, struct, sys, time

spec = json.loads(sys.argv[1])
limits = spec["limits"]

# Denied with EPERM inside the sandbox (x86_64 numbers): kernel and namespace interfaces that code
# under test has no business calling, and that widen the kernel surface a sandbox escape would use.
DENIED = [101, 135, 155, 161, 163, 165, 166, 167, 168, 169, 170, 171, 175, 176, 246, 248, 249, 250,
          272, 298, 303, 304, 308, 310, 311, 313, 320, 321, 323, 425, 426, 427]

def seccomp_program():
    ld, jeq, jge, ret = 0x20, 0x15, 0x35, 0x06
    allow, deny, kill = 0x7FFF0000, 0x00050000 | 1, 0x80000000
    body = [(ld, 0, 0, 4), (jeq, 1, 0, 0xC000003E), (ret, 0, 0, kill), (ld, 0, 0, 0)]
    checks = [(jge, 0x40000000)] + [(jeq, nr) for nr in DENIED]
    for i, (op, k) in enumerate(checks):
        # Jump to the deny return, which follows the allow return after the last check.
        body.append((op, len(checks) - i, 0, k))
    body += [(ret, 0, 0, allow), (ret, 0, 0, deny)]
    return b"".join(struct.pack("HBBI", *f) for f in body)

argv = list(spec["argv"])
pass_fds = ()
seccomp = spec.get("seccomp", True) and platform.machine() == "x86_64"
if seccomp:
    r, w = os.pipe()
    os.write(w, seccomp_program())
    os.close(w)
    argv[1:1] = ["--seccomp", str(r)]
    pass_fds = (r,)

def in_child():
    # rlimits are inherited by bwrap and everything it starts. RLIMIT_NPROC does not bind uid 0,
    # which is why a root service drops to an unprivileged uid here before bwrap runs.
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_CPU, (limits["cpu"], limits["cpu"] + 1))
    resource.setrlimit(resource.RLIMIT_AS, (limits["memory"], limits["memory"]))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits["file"], limits["file"]))
    resource.setrlimit(resource.RLIMIT_NOFILE, (limits["files"], limits["files"]))
    if spec.get("uid") is not None:
        os.setgroups([])
        os.setgid(spec["uid"])
        os.setuid(spec["uid"])
    resource.setrlimit(resource.RLIMIT_NPROC, (limits["processes"], limits["processes"]))

def workspace_size(root):
    total = 0
    for folder, dirs, files in os.walk(root):
        for name in files + dirs:
            try:
                total += os.lstat(os.path.join(folder, name)).st_size
            except OSError:
                pass
    return total

def sample(root):
    """CPU seconds and peak KiB of the processes under root, read before they are killed: a process
    killed with its PID namespace is reaped without its time reaching wait4."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                parents.setdefault(int(fields[1]), []).append((int(entry), fields))
            except OSError:
                pass
    tick = os.sysconf("SC_CLK_TCK")
    cpu, peak, todo = 0.0, 0, [root]
    while todo:
        for pid, fields in parents.get(todo.pop(), []):
            cpu += sum(int(x) for x in fields[11:15]) / tick
            try:
                with open(f"/proc/{pid}/status") as f:
                    peak = max([peak] + [int(l.split()[1]) for l in f if l.startswith("VmHWM:")])
            except OSError:
                pass
            todo.append(pid)
    return cpu, peak

if spec.get("uid") is not None:
    # The sandbox's host uid must own the workspace to write in it, also files the service wrote
    # (write_file). lchown and a walk that does not follow links never reach outside it.
    uid = spec["uid"]
    for folder, dirs, files in os.walk(spec["workspace"]):
        for path in [folder] + [os.path.join(folder, n) for n in dirs + files]:
            if os.lstat(path).st_uid != uid:
                os.lchown(path, uid, uid)

import subprocess
sampled = (0.0, 0)
started = time.monotonic()
child = subprocess.Popen(argv, preexec_fn=in_child, pass_fds=pass_fds, stdin=subprocess.DEVNULL, close_fds=True)
for fd in pass_fds:
    os.close(fd)
pidfd = os.pidfd_open(child.pid)
killed = None
deadline = started + spec["wall"]
while True:
    left = deadline - time.monotonic()
    ready, _, _ = select.select([pidfd], [], [], max(0.0, min(left, 0.1)))
    if ready:
        break
    if time.monotonic() >= deadline:
        killed = "wall"
    elif workspace_size(spec["workspace"]) > spec["workspace_max"]:
        killed = "workspace"
    if killed:
        sampled = sample(child.pid)
        # Killing the sandbox's PID 1 (bwrap's child) ends its PID namespace: the kernel kills every
        # process in it and PID 1 reaps them, so their CPU time still reaches this wait4.
        try:
            with open(f"/proc/{child.pid}/task/{child.pid}/children") as f:
                inits = [int(p) for p in f.read().split()]
        except OSError:
            inits = []
        for pid in inits:
            os.kill(pid, signal.SIGKILL)
        ready, _, _ = select.select([pidfd], [], [], 2.0)
        if not ready:
            # bwrap runs with --die-with-parent: killing it takes the sandbox with it.
            os.kill(child.pid, signal.SIGKILL)
        break
_, status, usage = os.wait4(child.pid, 0)
report = {
    "exit": os.waitstatus_to_exitcode(status),
    "killed": killed,
    "seconds": time.monotonic() - started,
    "cpu": max(usage.ru_utime + usage.ru_stime, sampled[0]),
    "peak_kib": max(usage.ru_maxrss, sampled[1]),
    "seccomp": seccomp,
}
with open(spec["report"], "w") as f:
    json.dump(report, f)
