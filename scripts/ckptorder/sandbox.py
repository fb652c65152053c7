"""The kernel's half of the defence: a job that imports or runs a file from outside does it in
a child process the kernel confines, so that what the guard misses still cannot read the
user's files, write outside the job's outputs, reach the network or take the machine's memory
(docs/security.md).

The child is forked before TensorFlow is imported, then confines itself, unprivileged:
- Landlock (Linux 5.13+): it may read only the Python environment, the system's libraries,
  its own `/proc/self`, `/sys`, a few devices, the project's scripts and what the job is given
  (an entry's own files); it may write only inside a staging folder beside each output and a private
  temporary folder. Where the kernel has Landlock's network rules (ABI 4, Linux 6.7+), no TCP
  bind or connect either;
- seccomp: no socket of any kind and no io_uring (which could make one);
- RLIMIT_AS: its address space is capped at what it has when it starts plus the job's
  memory (`resources.mem_mb`, from the checkpoint's size on disk).
The parent, unconfined, renames the staged outputs into place once the child succeeds, so a
confined job needs no right on the folders that hold other jobs' outputs.

Where the kernel has no Landlock (an old kernel, another system), the job runs as it is and
its log says so in one line; `required` makes that an error.
"""

import ctypes
import glob
import math
import os
import platform
import resource
import shutil
import signal
import sys
import tempfile
import traceback
from pathlib import Path

from ckptorder.atomic import UNFINISHED, unfinished_folder

SYSCALLS = {"landlock_create_ruleset": 444, "landlock_add_rule": 445, "landlock_restrict_self": 446}
CREATE_RULESET_VERSION = 1
RULE_PATH_BENEATH = 1
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS = 1, 38
# Landlock's file-system rights (include/uapi/linux/landlock.h), by the ABI that added them.
EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1, 1 << 1, 1 << 2, 1 << 3
REMOVE_DIR, REMOVE_FILE, MAKE_DIR, MAKE_REG, MAKE_SYM = 1 << 4, 1 << 5, 1 << 7, 1 << 8, 1 << 12
REFER, TRUNCATE, IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
# All the rights each ABI handles (ABI 4 added network rights, 6 scopes, 7 logging).
FS_RIGHTS_BY_ABI = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 5: (1 << 16) - 1}
READ = EXECUTE | READ_FILE | READ_DIR
WRITE = READ | WRITE_FILE | REMOVE_DIR | REMOVE_FILE | MAKE_DIR | MAKE_REG | MAKE_SYM
WRITE |= REFER | TRUNCATE
# Landlock's network rights (ABI 4): TCP bind and connect, none granted.
NET_TCP = 0b11
# Landlock's scopes (ABI 6): abstract unix sockets and signals of processes outside the sandbox.
SCOPES = 0b11

# What a confined job may read besides its own files: the system's libraries and devices, and
# of /proc its own process and what the machine has (not other processes' environments).
SYSTEM_READS = ("/usr", "/lib", "/lib64", "/bin", "/etc/ld.so.cache", "/etc/localtime")
SYSTEM_READS += ("/proc/self", "/proc/cpuinfo", "/proc/meminfo", "/proc/stat", "/sys")
SYSTEM_READS += ("/dev/null", "/dev/urandom", "/dev/zero")
# The memory a confined job may map beyond what it has when it starts, besides its budget:
# the thread stacks and malloc arenas TensorFlow's thread pools reserve (address space, mostly
# never touched).
ADDRESS_SPACE_MARGIN_MB = 4096

MODES = ("auto", "required")
# The memory a TensorFlow job asks for (Snakemake's resources.mem_mb) and is capped at: its
# process, about 600 MB, and at its peak about 2.5 times the checkpoint it holds
# (bench/README.md, the 1 GiB model).
PROCESS_MB, CHECKPOINT_FACTOR = 1000, 3
NO_LANDLOCK = "this machine's kernel has no Landlock (Linux 5.13+)"
# What a job's log, and the answer of a run, say where jobs run unconfined.
UNCONFINED = f"no sandbox: {NO_LANDLOCK}; the guard alone checks files from outside"


class RulesetAttr(ctypes.Structure):
    _fields_ = [
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    ]


class PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


LIBC = ctypes.CDLL(None, use_errno=True)


def syscall(name, *args):
    result = LIBC.syscall(ctypes.c_long(SYSCALLS[name]), *args)
    if result < 0:
        error = ctypes.get_errno()
        raise OSError(error, f"{name}: {os.strerror(error)}")
    return result


def landlock_abi():
    """Landlock's ABI version on this kernel, or 0 where it has none (or not on Linux)."""
    if platform.system() != "Linux":
        return 0
    try:
        return syscall("landlock_create_ruleset", None, ctypes.c_size_t(0), CREATE_RULESET_VERSION)
    except OSError:
        return 0


def memory_mb(checkpoint_mb):
    """The memory of a TensorFlow job that holds a checkpoint of `checkpoint_mb` on disk."""
    return PROCESS_MB + math.ceil(CHECKPOINT_FACTOR * checkpoint_mb)


def files_mb(paths):
    """The size on disk of `paths` (a folder's files, a prefix's), in MB."""
    found = [Path(p) for p in entry_reads(paths)]
    files = [f for p in found for f in ([p] if p.is_file() else p.rglob("*")) if f.is_file()]
    return sum(f.stat().st_size for f in files) / 1e6


def fs_rights(abi):
    return FS_RIGHTS_BY_ABI[max(v for v in FS_RIGHTS_BY_ABI if v <= abi)]


def confine_files(abi, reads, writes, lists=()):
    """Restrict this process and its children to reading `reads`, writing `writes` and
    listing `lists` (paths that exist), and, where the kernel can, to no TCP and no signal or
    abstract socket out."""
    handled = fs_rights(abi)
    attr = RulesetAttr(handled, NET_TCP if abi >= 4 else 0, SCOPES if abi >= 6 else 0)
    size = ctypes.sizeof(RulesetAttr) if abi >= 6 else (16 if abi >= 4 else 8)
    ruleset = syscall("landlock_create_ruleset", ctypes.byref(attr), ctypes.c_size_t(size), 0)
    try:
        for rights, paths in ((READ, reads), (WRITE, writes), (READ_DIR, lists)):
            for path in paths:
                add_path_rule(ruleset, path, rights & handled)
        if LIBC.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS)")
        syscall("landlock_restrict_self", ruleset, 0)
    finally:
        os.close(ruleset)


def add_path_rule(ruleset, path, rights):
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except FileNotFoundError:
        return
    try:
        if not os.path.isdir(path):
            rights &= WRITE_FILE | READ_FILE | EXECUTE | TRUNCATE | IOCTL_DEV
        rule = PathBeneathAttr(rights, fd)
        syscall("landlock_add_rule", ruleset, RULE_PATH_BENEATH, ctypes.byref(rule), 0)
    finally:
        os.close(fd)


# seccomp: a classic BPF program that fails socket() and io_uring_setup() with EACCES.
AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
NO_NETWORK_SYSCALLS = {"x86_64": (41, 425), "aarch64": (198, 425)}
PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 22, 2
SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO, EACCES = 0x7FFF0000, 0x00050000, 13
BPF_LD_W_ABS, BPF_JEQ_K, BPF_RET_K = 0x20, 0x15, 0x06


class SockFilter(ctypes.Structure):
    _fields_ = [
        ("code", ctypes.c_uint16),
        ("jt", ctypes.c_uint8),
        ("jf", ctypes.c_uint8),
        ("k", ctypes.c_uint32),
    ]


class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_uint16), ("filter", ctypes.POINTER(SockFilter))]


def no_sockets_program(machine):
    """The seccomp filter for `machine`: allow every call but socket and io_uring_setup."""
    socket_call, uring_call = NO_NETWORK_SYSCALLS[machine]
    program = [
        SockFilter(BPF_LD_W_ABS, 0, 0, 4),  # seccomp_data.arch
        SockFilter(BPF_JEQ_K, 1, 0, AUDIT_ARCH[machine]),
        SockFilter(BPF_RET_K, 0, 0, SECCOMP_RET_ERRNO | EACCES),  # another ABI: refuse all
        SockFilter(BPF_LD_W_ABS, 0, 0, 0),  # seccomp_data.nr
        SockFilter(BPF_JEQ_K, 2, 0, socket_call),
        SockFilter(BPF_JEQ_K, 1, 0, uring_call),
        SockFilter(BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW),
        SockFilter(BPF_RET_K, 0, 0, SECCOMP_RET_ERRNO | EACCES),
    ]
    return (SockFilter * len(program))(*program)


def forbid_sockets():
    machine = platform.machine()
    if machine not in AUDIT_ARCH:
        return
    program = no_sockets_program(machine)
    fprog = SockFprog(len(program), program)
    if LIBC.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_SECCOMP)")


def cap_memory(memory_mb):
    """Cap this process's address space at what it maps now plus `memory_mb` and the margin."""
    with open("/proc/self/status") as status_file:
        mapped_kb = next(int(line.split()[1]) for line in status_file if line.startswith("VmSize"))
    limit = mapped_kb * 1024 + (memory_mb + ADDRESS_SPACE_MARGIN_MB) * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def python_reads():
    """The Python environment: the interpreter's prefixes and every folder of its path."""
    folders = {sys.prefix, sys.base_prefix, sys.exec_prefix, *filter(None, sys.path)}
    return sorted({str(Path(folder).resolve()) for folder in folders})


def entry_reads(paths):
    """What a job is given to read: each path itself (a folder whole), and a checkpoint
    prefix's files (PREFIX.*). A file that resolves outside its folder (a link out) is left
    out: the kernel then refuses to read it."""
    reads = []
    for path in map(Path, paths):
        if path.is_dir():
            reads.append(str(path.resolve()))
        elif path.exists():
            reads += inside_its_folder([path])
        else:
            reads += inside_its_folder(prefix_files(path))
    return reads


def inside_its_folder(files):
    return [str(f) for f in files if f.resolve().parent == f.parent.resolve()]


def links_out(paths):
    """One line for each file of `paths` (a folder's, at any depth; a prefix's) that is a link
    resolving outside the folder it stands in: what the job would read is another file."""
    found = []
    for path in map(Path, paths):
        top = path.resolve() if path.is_dir() else path.parent.resolve()
        files = path.rglob("*") if path.is_dir() else [path, *prefix_files(path)]
        for file in files:
            if file.is_symlink() and not file.resolve().is_relative_to(top):
                found.append(f"{file} is a link to {file.resolve()}, outside {top}")
    return found


def prefix_files(path):
    return path.parent.glob(f"{glob.escape(path.name)}.*")


def listed_folders(paths):
    """The folders of the files a job is given: it may list them (names only), as TensorFlow
    does to find a checkpoint's data shards."""
    return sorted({str(Path(path).parent.resolve()) for path in paths if not Path(path).is_dir()})


def use_temporary_folder(folder):
    """Make `folder`, the confined child's own, its TMPDIR and Keras's home."""
    os.environ["TMPDIR"] = os.environ["KERAS_HOME"] = folder
    tempfile.tempdir = folder


def run_confined(work, outputs, reads, memory_mb, mode="auto"):
    """Run `work(staged)` in a confined child, `staged` being where it writes each of
    `outputs` (same order); on success rename each into place. `reads`: what the job is
    given. The child's exit code is the job's: its one-line error is already on stderr.
    Where the kernel cannot confine it, `work(outputs)` runs here, as it is."""
    abi = landlock_abi()
    if not abi:
        if mode == "required":
            raise ValueError(
                f"sandbox: required, but {NO_LANDLOCK} (sandbox: auto runs without it)"
            )
        print(UNCONFINED, file=sys.stderr)
        work(list(outputs))
        return
    # Where the confined child writes each output: a fresh folder beside it.
    stagings = [unfinished_folder(output, "staging") for output in outputs]
    staged = [
        str(staging / Path(output).name) for staging, output in zip(stagings, outputs, strict=True)
    ]
    try:
        code = confined_child(work, staged, stagings, reads, memory_mb, abi)
        if code == 0:
            for path, output in zip(staged, outputs, strict=True):
                replace(path, output)
    finally:
        for staging in stagings:
            shutil.rmtree(staging, ignore_errors=True)
            UNFINISHED.discard(staging)
    if code:
        raise SystemExit(code)


def confined_child(work, staged, stagings, reads, memory_mb, abi):
    """Fork, confine the child and run `work(staged)` there; the child's exit code."""
    sys.stdout.flush()
    sys.stderr.flush()
    with tempfile.TemporaryDirectory(prefix="ckptorder-sandbox-") as temporary:
        pid = os.fork()
        if pid == 0:
            os._exit(child(work, staged, stagings, reads, memory_mb, abi, temporary))
        # The parent passes a stop (the time limit's, Snakemake's) on to the child.
        forward = lambda number, frame: os.kill(pid, number)  # noqa: E731
        previous = {s: signal.signal(s, forward) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            _, status = os.waitpid(pid, 0)
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)
    return os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 1


def child(work, staged, stagings, reads, memory_mb, abi, temporary):
    """The confined child: its exit code (its error already written to stderr)."""
    try:
        LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)  # the job stopped: so is this
        sys.dont_write_bytecode = True
        use_temporary_folder(temporary)
        scripts = str(Path(__file__).resolve().parents[1])
        allowed = [*SYSTEM_READS, *python_reads(), scripts, *entry_reads(reads)]
        confine_files(abi, allowed, [*map(str, stagings), temporary], listed_folders(reads))
        forbid_sockets()
        cap_memory(memory_mb)
        work(staged)
        code = 0
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else 1
    except MemoryError:
        print(f"error: the job needed more than its memory ({memory_mb} MB)", file=sys.stderr)
        code = 1
    except BaseException as error:  # a traceback, as an unconfined step would show
        traceback.print_exception(error)
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    return code


def replace(path, output):
    """Move the staged `path` onto `output`, a folder or a file."""
    if os.path.isdir(output) and not os.path.islink(output):
        shutil.rmtree(output)
    os.replace(path, output)
