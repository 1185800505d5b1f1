"""Kernel launcher for forked kernels (see opslib/zygote.py). Standard library only.

Run by the kernel manager in place of ``python -m ipykernel_launcher -f CONN`` as
``python -I -S zygote_launch.py SOCKET -f CONN``: it asks the zygote listening on SOCKET to fork
a kernel with this process's working directory, environment and standard streams, then stands
in for that kernel — signals it receives go to the kernel, and it exits with the kernel's exit
code. If this launcher is killed, the zygote notices the closed connection and kills the kernel.
"""

import json
import os
import signal
import socket
import struct
import sys

FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2)


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print("zygote_launch.py: usage: zygote_launch.py SOCKET KERNEL-ARGUMENTS…", file=sys.stderr)
        return 2
    path, kernel_args = argv[0], argv[1:]
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
    except OSError as exc:
        print(f"zygote_launch.py: cannot reach the kernel zygote at {path} ({exc.strerror}); "
              "run without it (OPSLIB_ZYGOTE=0).", file=sys.stderr)
        return 1
    body = json.dumps({"args": kernel_args, "cwd": os.getcwd(),
                       "env": dict(os.environ)}).encode()
    streams = []
    for fd in (0, 1, 2):  # a closed standard stream becomes /dev/null, as for any child process
        try:
            os.fstat(fd)
            streams.append(fd)
        except OSError:
            streams.append(os.open(os.devnull, os.O_RDWR))
    socket.send_fds(sock, [struct.pack("!I", len(body)) + body], streams)
    reader = sock.makefile("r", encoding="utf-8")
    first = reader.readline().split()
    if len(first) != 2 or first[0] != "pid":
        print("zygote_launch.py: the kernel zygote refused to start a kernel.", file=sys.stderr)
        return 1
    pid = int(first[1])

    def forward(signum, _frame):
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass

    for signum in FORWARDED:
        signal.signal(signum, forward)
    while True:
        line = reader.readline()
        if not line:  # the zygote went away without a word: the kernel is gone with it
            return 1
        word, _, value = line.strip().partition(" ")
        if word == "exit":
            code = int(value)
            return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
